#!/bin/sh
set -eu
for f in *.c ; do
echo "compiling $f"
    cc -c "$f" -o "${f%.c}.o"
done
if [ -n "${VERBOSE:-}" ]; then ls -l ; fi
