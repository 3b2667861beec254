// The one typed messenger over runtime messaging, shared by every context. Runtime-neutral to load:
// it imports the message map's types only, so content scripts stay small (no zod here).
import { defineExtensionMessaging } from '@webext-core/messaging';
import type { ProtocolMap } from './contract';

export const messenger = defineExtensionMessaging<ProtocolMap>();
