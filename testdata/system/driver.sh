#!/bin/sh
# driver.sh WORK NAME: submit one job (hash a fresh file) to the
# orchestrator and wait until the backend stored the right digest and the
# orchestrator marked the job done (it renames NAME.job to NAME.done after
# the backend answers: a driver that stopped at the store would end a
# training run before that rename, and the profile would lack it).
set -eu
work=$1 name=$2
printf 'payload %s %s\n' "$name" "$$" > "$work/$name.txt"
want=$(sha256sum "$work/$name.txt" | cut -d' ' -f1)
printf '%s\n' "$work/$name.txt" > "$work/jobs/$name.tmp"
mv "$work/jobs/$name.tmp" "$work/jobs/$name.job"
i=0
while ! grep -q "^RESULT $name $want\$" "$work/store" 2>/dev/null || [ ! -e "$work/jobs/$name.done" ]; do
	i=$((i + 1))
	if [ "$i" -gt 200 ]; then
		echo "driver: backend never stored $name $want, or the job was not marked done" >&2
		cat "$work/store" >&2 2>/dev/null || true
		ls "$work/jobs" >&2 2>/dev/null || true
		exit 1
	fi
	sleep 0.1
done
echo "driver: $name stored"
