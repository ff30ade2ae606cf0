// Polling helpers for Cloud Deploy end-to-end tests through googleapis: wait on operations and on
// rollout states, and download objects from Gantry's storage.
import assert from 'node:assert/strict';
import type { clouddeploy_v1 } from 'googleapis';
import { googleapisDeploy } from './clients.js';
import { eventually } from './server.js';

export class DeployKit {
  api!: clouddeploy_v1.Resource$Projects$Locations;
  private url = '';

  attach(url: string): this {
    this.url = url;
    this.api = googleapisDeploy(url).projects.locations;
    return this;
  }

  get rollouts() { return this.api.deliveryPipelines.releases.rollouts; }

  /** Resolves with the operation once it is done. */
  async opDone(p: Promise<{ data: clouddeploy_v1.Schema$Operation }>): Promise<clouddeploy_v1.Schema$Operation> {
    const op = (await p).data;
    return eventually(async () => { const r = (await this.api.operations.get({ name: op.name! })).data; return r.done ? r : undefined; });
  }

  /** Creates a release and resolves with it once its render has ended (SUCCEEDED or FAILED). */
  async renderedRelease(parent: string, releaseId: string, release: clouddeploy_v1.Schema$Release): Promise<clouddeploy_v1.Schema$Release> {
    await this.opDone(this.api.deliveryPipelines.releases.create({ parent, releaseId, requestBody: release }));
    const name = `${parent}/releases/${releaseId}`;
    return eventually(async () => {
      const r = (await this.api.deliveryPipelines.releases.get({ name })).data;
      return r.renderState !== 'IN_PROGRESS' ? r : undefined;
    });
  }

  async rollout(name: string): Promise<clouddeploy_v1.Schema$Rollout> { return (await this.rollouts.get({ name })).data; }

  /** Polls a rollout until `pred` holds. */
  until(name: string, pred: (r: clouddeploy_v1.Schema$Rollout) => boolean, ms = 15_000): Promise<clouddeploy_v1.Schema$Rollout> {
    return eventually(async () => { const r = await this.rollout(name); return pred(r) ? r : undefined; }, ms);
  }

  /** The bytes of a gs:// object, as text. */
  async download(gsUrl: string): Promise<string> {
    const [, bucket, object] = /^gs:\/\/([^/]+)\/(.+)$/.exec(gsUrl)!;
    const r = await fetch(`${this.url}/storage/v1/b/${bucket}/o/${encodeURIComponent(object)}?alt=media`);
    assert.equal(r.status, 200);
    return r.text();
  }
}
