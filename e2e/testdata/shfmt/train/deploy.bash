#!/usr/bin/env bash
deploy() {
  local target=$1
	case "$target" in
	  prod) echo "deploying to production";;
	  *) echo "unknown target $target" >&2; return 1;;
	esac
}
deploy "${1:-prod}"
