// The phases a stage's strategy gives a rollout (spec §7.3), shared by render (phaseArtifacts)
// and rollouts.
type Obj = Record<string, unknown>;

export function phaseIds(stage: Obj | undefined): string[] {
  const canary = (stage?.strategy as Obj | undefined)?.canary as Obj | undefined;
  if (!canary) return ['stable'];
  const custom = canary.customCanaryDeployment as Obj | undefined;
  if (custom) return ((custom.phaseConfigs as Obj[]) ?? []).map(p => String(p.phaseId));
  const percentages = ((canary.canaryDeployment as Obj | undefined)?.percentages as number[]) ?? [];
  return [...percentages.map(p => `canary-${p}`), 'stable'];
}
