import type { BuildService } from "../../core/build-service.ts";
import type { OpLog } from "../../core/ports.ts";
import type { Store } from "../../core/store.ts";
import type { CheckRunReporter } from "../reporter/check-run-reporter.ts";

export interface HandlerDeps {
  service: BuildService;
  store: Store;
  reporter: CheckRunReporter;
  log: OpLog;
}
