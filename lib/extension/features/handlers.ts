// The background's handler map in slices: each feature module exports the handlers of its messages,
// and background.ts joins them in one registerHandlers call, which checks the whole map. Types only.
import type { ToBackgroundType } from '../../messaging/contract';
import type { Handler } from '../router';

export type HandlerMap = { [T in ToBackgroundType]: Handler<T> };

/** A feature's slice: `satisfies Handlers` types each handler's data and answer by its message. */
export type Handlers = Partial<HandlerMap>;
