// What every review in the popup shows the same way: the clock that counts a deadline down (one tick
// a second) and the request's target as it is signed (path and query; the origin when asked). Extension
// page only.
import { useEffect, useState } from 'react';

/** Milliseconds since 1970, re-read every second while the component is shown. */
export function useNow(): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  return now;
}

/** Whole seconds from `now` to `deadlineMs`, never below zero. */
export function secondsLeft(deadlineMs: number, now: number): number {
  return Math.max(0, Math.ceil((deadlineMs - now) / 1000));
}

/** The path and query of `url` (the query is part of what is signed), with its origin when `withOrigin`; `url` itself when it does not parse. */
export function requestTarget(url: string, withOrigin = false): string {
  try {
    const u = new URL(url);
    return `${withOrigin ? u.origin : ''}${u.pathname}${u.search}`;
  } catch {
    return url;
  }
}
