#!/bin/sh
# The lower bound: one plain OpenSSH client per host, all at once, each running the whole check
# script in one remote shell; no multiplexing, no agent, host keys checked against the lab's.
# Key exchange and cipher are the ones tsplay's ssh2 negotiates (curve25519, AES-GCM): OpenSSH's
# default post-quantum sntrup761 exchange costs ~120 ms of client CPU per connection, which would
# make the bound easier to beat without saying anything about tsplay.
#   parallel-ssh.sh KEY KNOWN_HOSTS SCRIPT USER@ADDRESS...
# Exits 0 when every ssh exited 0.
set -u
key=$1 known=$2 script=$3
shift 3
cmd=$(cat "$script")
pids=
for target in "$@"; do
  ssh -i "$key" -o IdentitiesOnly=yes -o UserKnownHostsFile="$known" -o StrictHostKeyChecking=yes \
    -o BatchMode=yes -o ControlMaster=no -o ControlPath=none -o ConnectTimeout=30 \
    -o KexAlgorithms=curve25519-sha256@libssh.org -o Ciphers=aes128-gcm@openssh.com \
    "$target" "$cmd" &
  pids="$pids $!"
done
rc=0
for pid in $pids; do
  wait "$pid" || rc=1
done
exit $rc
