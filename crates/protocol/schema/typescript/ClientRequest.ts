// GENERATED CODE! DO NOT MODIFY BY HAND!

import type { InitializeParams } from "./InitializeParams";
import type { MockExperimentalMethodParams } from "./MockExperimentalMethodParams";
import type { RequestId } from "./RequestId";
import type { ServerDiagnosticsParams } from "./ServerDiagnosticsParams";

export type ClientRequest = { "method": "initialize", id: RequestId, params: InitializeParams, } | { "method": "server/diagnostics", id: RequestId, params: ServerDiagnosticsParams, } | { "method": "mock/experimentalMethod", id: RequestId, params: MockExperimentalMethodParams, };
