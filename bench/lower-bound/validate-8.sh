# validate-8's eight checks in one remote shell, each reported with its exit status.
pgrep -x sshd; echo "sshd is running: $?"
ss -Hltn 'sport = :22' | grep -q .; echo "port 22 is listening: $?"
cat /proc/uptime
cat /proc/loadavg
awk '/^MemAvailable:/ { print $2 }' /proc/meminfo
! ls -d /tmp/distcc-pump.* >/dev/null 2>&1; echo "no stale pump dirs: $?"
gcc --version; echo "gcc is present: $?"
distcc --version; echo "distcc is present: $?"
