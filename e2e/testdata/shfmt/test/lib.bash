#!/usr/bin/env bash
log() { printf '%s %s\n' "$(date +%T)" "$*" ; }
retry() {
local n=0
until "$@"; do
n=$((n+1))
[[ $n -ge 3 ]] && return 1
sleep 1
done
}
