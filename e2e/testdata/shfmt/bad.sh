#!/bin/sh
if [ -f /etc/passwd ]; then
  echo "missing fi"
for x in a b; do echo $x
