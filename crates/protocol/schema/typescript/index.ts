// GENERATED CODE! DO NOT MODIFY BY HAND!

export type { AbsolutePathBuf } from "./AbsolutePathBuf";
export type { ClientInfo } from "./ClientInfo";
export type { ClientNotification } from "./ClientNotification";
export type { ClientRequest } from "./ClientRequest";
export type { ConfigWarningNotification } from "./ConfigWarningNotification";
export type { InitializeCapabilities } from "./InitializeCapabilities";
export type { InitializeParams } from "./InitializeParams";
export type { InitializeResponse } from "./InitializeResponse";
export type { MockExperimentalMethodParams } from "./MockExperimentalMethodParams";
export type { MockExperimentalMethodResponse } from "./MockExperimentalMethodResponse";
export type { RequestId } from "./RequestId";
export type { ServerDiagnosticsGauge } from "./ServerDiagnosticsGauge";
export type { ServerDiagnosticsParams } from "./ServerDiagnosticsParams";
export type { ServerDiagnosticsProcess } from "./ServerDiagnosticsProcess";
export type { ServerDiagnosticsResponse } from "./ServerDiagnosticsResponse";
export type { ServerNotification } from "./ServerNotification";
export type { TextPosition } from "./TextPosition";
export type { TextRange } from "./TextRange";
