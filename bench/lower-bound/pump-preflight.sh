# pump-preflight's work on the builder in one remote shell. An include-server is this host's when it
# shares our network namespace (lab hosts share one process table), and stale when the pump dir it
# serves is gone; a pump dir is stale when no live include-server of this host serves it.
me=$(readlink /proc/self/ns/net); n=0
for p in $(pgrep -f '^[^ ]*python[0-9.]* [^ ]*include_server\.py'); do
  [ "$(readlink /proc/$p/ns/net 2>/dev/null)" = "$me" ] || continue
  d=$(tr '\0' ' ' </proc/$p/cmdline 2>/dev/null | grep -o '/tmp/distcc-pump\.[A-Za-z0-9]*' | head -n 1)
  if [ -n "$d" ] && [ -d "$d" ]; then continue; fi
  kill "$p" 2>/dev/null && n=$((n + 1))
done
echo "stale include-servers stopped: $n"
me=$(readlink /proc/self/ns/net); live=
for p in $(pgrep -f '^[^ ]*python[0-9.]* [^ ]*include_server\.py'); do
  [ "$(readlink /proc/$p/ns/net 2>/dev/null)" = "$me" ] || continue
  live="$live $(tr '\0' ' ' </proc/$p/cmdline 2>/dev/null | grep -o '/tmp/distcc-pump\.[A-Za-z0-9]*' | head -n 1)"
done
for d in /tmp/distcc-pump.*; do
  [ -d "$d" ] || continue
  case " $live " in *" $d "*) continue ;; esac
  rm -rf -- "$d" && echo "removed stale $d"
done
echo "PATH=$PATH CC=${CC-} HOSTCC=${HOSTCC-}"
command -v gcc && command -v distcc; echo "gcc and distcc are present: $?"
