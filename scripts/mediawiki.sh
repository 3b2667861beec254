#!/usr/bin/env bash
# A throwaway MediaWiki 1.39 to try the gateway by hand, the same wiki the tests start
# (demo/mediawiki.ts does the work; this script adds the Debian packages when missing).
#
#   scripts/mediawiki.sh [--dir DIR] [--port PORT] [--server ORIGIN]
#
#   --dir DIR        the wiki's folder (SQLite, LocalSettings.php, server.log); reused, with the same
#                    users and passwords, when it holds one already. Default: a temp folder, removed on exit.
#   --port PORT      serve on 127.0.0.1:PORT. Default: a free port.
#   --server ORIGIN  the public origin MediaWiki puts in links and redirects ($wgServer), e.g. the
#                    gateway's http://127.0.0.1:8080. Default: the direct URL.
#
# Prints the URL and the passwords of Alice (sysop, bureaucrat), Bob and the bot WikiHelper; Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."

have_mediawiki() {
  [ -f /usr/share/mediawiki/maintenance/install.php ] && command -v php >/dev/null &&
    php -r 'exit(extension_loaded("pdo_sqlite") && extension_loaded("intl") ? 0 : 1);' 2>/dev/null
}
if ! have_mediawiki; then
  if ! command -v apt-get >/dev/null; then
    echo "MediaWiki is missing and there is no apt-get here: install mediawiki, php-sqlite3 and php-cli (Debian 12: MediaWiki 1.39)" >&2
    exit 1
  fi
  echo "== installing MediaWiki: apt-get install mediawiki php-sqlite3 php-cli" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -q
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends mediawiki php-sqlite3 php-cli
fi
[ -d node_modules/tsx ] || { echo "run npm install first (this script runs demo/mediawiki.ts with tsx)" >&2; exit 1; }

exec node --import tsx demo/mediawiki.ts "$@"
