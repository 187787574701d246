import type { BuildService } from "../../core/build-service.ts";
import type { OpLog } from "../../core/ports.ts";
import type { Store } from "../../core/store.ts";
import type { PreviewTeardown } from "../../core/deploy/preview-teardown.ts";
import type { RollbackService } from "../../core/deploy/rollback-service.ts";
import type { CheckRunReporter } from "../reporter/check-run-reporter.ts";

export interface HandlerDeps {
  service: BuildService;
  store: Store;
  reporter: CheckRunReporter;
  log: OpLog;
  /** Removes a closed pull request's preview; absent when nothing deploys. */
  previews?: PreviewTeardown | null;
  /** `/rollback`; absent when nothing deploys (then `/deploy` and `/rollback` say so). */
  rollbacks?: RollbackService | null;
  /** This app's id (APP_ID): the deployments it made itself are not deployed again. */
  appId?: number | null;
}
