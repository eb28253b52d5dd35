#!/bin/sh
# Checks the static site before it is packaged: the files the probes and the page need exist, the
# page has a title placeholder to render, and no file is empty. Run by the buildspec's build phase:
#   sh app/check.sh app/public
set -eu

site="${1:-app/public}"
status=0

for file in index.html style.css healthz version.txt; do
  if [ ! -s "$site/$file" ]; then
    echo "check: $site/$file is missing or empty" >&2
    status=1
  fi
done

if ! grep -q '<title>__SITE_TITLE__</title>' "$site/index.html"; then
  echo "check: $site/index.html has no <title>__SITE_TITLE__</title> placeholder" >&2
  status=1
fi

if [ "$(cat "$site/healthz")" != "ok" ]; then
  echo "check: $site/healthz must contain exactly 'ok' (the readiness probe reads it)" >&2
  status=1
fi

[ "$status" -eq 0 ] && echo "check: $site looks good"
exit "$status"
