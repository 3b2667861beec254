// `npm start`: builds the extension and tells a newcomer how to load it. Node only.
// The verifier (issue 3) and the demo tools (issue 4) join this script as they land.
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

const EXTENSION_ID = 'leelpbfgmamkjjkciaifjeihgadjnmgj';

function run(command, args) {
  const result = spawnSync(command, args, { stdio: 'inherit', shell: false });
  if (result.status !== 0) {
    console.error(`\n${command} ${args.join(' ')} failed (exit ${result.status ?? result.signal}).`);
    process.exit(result.status ?? 1);
  }
}

console.log('Building the Countersign extension (Chrome MV3)…');
run(process.execPath, ['node_modules/wxt/bin/wxt.mjs', 'build']);

const out = resolve('.output/chrome-mv3');
console.log(`
Countersign extension built: ${out}
  Load it: chrome://extensions → Developer mode → Load unpacked → choose that folder.
  Its id is fixed by the manifest key: ${EXTENSION_ID}

Not built yet:
  - the verifier (npm run verifier), issue 3;
  - the demo internal tools and the rogue agent, issue 4.
`);
