// Entry of the admin CLI (`npm run admin -- …`). Node only.
import { runCli } from './cli';

runCli(process.argv.slice(2), {
  fetch,
  out: (line) => console.log(line),
  err: (line) => console.error(line),
  env: process.env,
}).then((code) => process.exit(code));
