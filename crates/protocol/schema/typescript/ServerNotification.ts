// GENERATED CODE! DO NOT MODIFY BY HAND!

import type { ConfigWarningNotification } from "./ConfigWarningNotification";

export type ServerNotification = { "method": "configWarning", params: ConfigWarningNotification, };
