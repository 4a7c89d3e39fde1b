#!/usr/bin/env bash
# `npm run package`: builds the Flex Consumption deployment zip (dist/ without tests and benchmarks,
# host.json, package.json and production node_modules) at .cache/package/m365-backup.zip.
# Production dependencies are installed in a staging folder with `npm ci --omit=dev`, so the
# working tree's node_modules (dev tools included) is never shipped.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=.cache/package
STAGE="$OUT/stage"
rm -rf "$STAGE" && mkdir -p "$STAGE"
npx tsc -p tsconfig.json
cp -r dist "$STAGE/dist" && rm -rf "$STAGE/dist/test" "$STAGE/dist/bench"
cp host.json package.json package-lock.json "$STAGE/"
(cd "$STAGE" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund > /dev/null)
rm -f "$OUT/m365-backup.zip"
(cd "$STAGE" && zip -qr ../m365-backup.zip dist host.json package.json node_modules)
echo "$PWD/$OUT/m365-backup.zip ($(du -h "$OUT/m365-backup.zip" | cut -f1))"
