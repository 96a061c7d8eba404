# pump-preflight's work on the builder in one remote shell: the script tsplay's pump module runs for
# `action: preflight` (modules/lib/pump-scripts.ts, preflightScript with apply=1).
set -u
apply=1; envfile=/run/tsplay/pump.env
me=$(readlink /proc/self/ns/mnt)
pids=""
for f in $(grep -las 'include_server\.py' /proc/[0-9]*/cmdline 2>/dev/null); do
  d=${f%/cmdline}; pid=${d#/proc/}
  [ "$pid" = "$$" ] && continue
  [ "$(readlink "$d/ns/mnt" 2>/dev/null)" = "$me" ] || continue
  a0=$(tr '\0' '\n' <"$f" 2>/dev/null | sed -n 1p); a1=$(tr '\0' '\n' <"$f" 2>/dev/null | sed -n 2p); a2=$(tr '\0' '\n' <"$f" 2>/dev/null | sed -n 3p)
  is=0
  case ${a0##*/} in
    include_server.py) is=1 ;;
    python*) [ "${a1##*/}" = include_server.py ] && is=1; case $a1 in -*) [ "${a2##*/}" = include_server.py ] && is=1 ;; esac ;;
  esac
  [ $is = 1 ] || continue
  printf 'server\t%s\t%s\n' "$pid" "$(tr '\0' ' ' <"$f" 2>/dev/null)"
  pids="$pids $pid"
done
if [ $apply = 1 ] && [ -n "$pids" ]; then
  kill -s TERM $pids 2>/dev/null
  live() { [ -n "$(tr -d '\0' </proc/$1/cmdline 2>/dev/null)" ]; }
  i=0; while [ $i -lt 40 ]; do left=""; for p in $pids; do live $p && left="$left $p"; done; [ -z "$left" ] && break; sleep 0.05; i=$((i+1)); done
  for p in $pids; do live $p && kill -s KILL $p 2>/dev/null; done
  sleep 0.1
  for p in $pids; do if live $p; then printf 'survived\t%s\n' $p; else printf 'killed\t%s\n' $p; fi; done
fi
for d in /tmp/distcc-pump.*; do
  [ -d "$d" ] && [ ! -L "$d" ] || continue
  printf 'dir\t%s\n' "$d"
  [ $apply = 1 ] && rm -rf -- "$d"
done
for f in /tmp/distcc-pump-pid.* /tmp/distcc-pump-hosts.*; do
  [ -f "$f" ] && [ ! -L "$f" ] || continue
  printf 'file\t%s\n' "$f"
  [ $apply = 1 ] && rm -f -- "$f"
done
if [ -e "$envfile" ]; then printf 'envfile\t%s\n' "$envfile"; [ $apply = 1 ] && rm -f -- "$envfile"; fi
printf 'PATH\t%s\n' "$PATH"
if [ "${CC+set}" = set ]; then printf 'CC\t%s\n' "$CC"; fi
if [ "${HOSTCC+set}" = set ]; then printf 'HOSTCC\t%s\n' "$HOSTCC"; fi
for t in gcc distcc pump distcc-pump make; do printf 'tool\t%s\t%s\n' "$t" "$(command -v $t 2>/dev/null)"; done
command -v gcc >/dev/null 2>&1 && printf 'version\tgcc\t%s\n' "$(gcc -dumpfullversion 2>/dev/null)"
command -v distcc >/dev/null 2>&1 && printf 'version\tdistcc\t%s\n' "$(distcc --version 2>/dev/null | sed -n 1p)"
command -v make >/dev/null 2>&1 && printf 'version\tmake\t%s\n' "$(make --version 2>/dev/null | sed -n 1p)"
for t in pump distcc-pump; do s=$(command -v $t 2>/dev/null) || continue; py=$(sed -n 's/^PYTHON=//p' "$s" | sed -n 1p); [ -n "$py" ] && printf 'version\tpython\t%s\n' "$("$py" --version 2>&1)"; break; done
exit 0
