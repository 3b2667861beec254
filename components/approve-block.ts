// Why a held action's Approve button is off, in the words the popup shows beside it. Pure; the
// background refuses the same cases on its own (approvals.ts), whatever the popup shows.
import type { ExtensionStateView } from '@/lib/messaging/contract';

export type ApproveBlock = 'loading' | 'state-unreadable' | 'not-enrolled' | 'kill-switch' | 'expired';

export const APPROVE_BLOCK_TEXT: Record<ApproveBlock, string> = {
  loading: 'Checking this browser\'s enrollment and the kill switch…',
  'state-unreadable': 'Countersign could not read this browser\'s state (see above), so nothing can be approved from here.',
  'not-enrolled': 'This browser is not enrolled: enroll it in the options page.',
  'kill-switch': 'A kill switch is on (see above): nothing can be approved until it is off.',
  expired: 'Its time ran out: it can no longer be approved.',
};

/** What keeps every held action from being approved, from the state the popup shows; null when nothing does. */
export function approveBlock(state: ExtensionStateView | null, error: string | null): ApproveBlock | null {
  if (!state) return error ? 'state-unreadable' : 'loading';
  if (!state.enrollment) return 'not-enrolled';
  if (state.kill.engaged) return 'kill-switch';
  return null;
}
