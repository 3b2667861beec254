// Moved to demo/mediawiki.ts (the demo's real third-party tool, also started by the tests and the bench).
export * from '../../demo/mediawiki';
