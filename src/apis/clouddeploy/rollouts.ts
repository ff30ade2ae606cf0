// Rollout and JobRun reads. Rollouts are created and driven in the rollout lifecycle (issue 3);
// their reads already serve gcloud, which lists rollouts across `releases/-` when describing.
import type { KindStrategy } from '../../google/standard-methods.js';

export const rollouts: KindStrategy = {
  kind: 'rollout', message: 'Rollout', collection: 'rollouts', idParam: 'rolloutId', bodyField: 'rollout', parentKind: 'release',
};

export const jobRuns: KindStrategy = {
  kind: 'jobRun', message: 'JobRun', collection: 'jobRuns', idParam: 'jobRunId', bodyField: 'jobRun', parentKind: 'rollout',
};
