// The log for the options page: its viewer, its export, and a sync to the verifier now. Background only.
import { exportLog, listLog } from '../log';
import { syncLog } from '../log-sync';
import type { Handlers } from './handlers';

export const logHandlers = {
  'ui-bg:list-log': (filter) => listLog(filter),
  'ui-bg:export-log': (filter) => exportLog(filter),
  'ui-bg:sync-now': () => syncLog({ force: true }),
} satisfies Handlers;
