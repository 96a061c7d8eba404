# post-power-on-validate's checks on one worker in one remote shell.
systemctl is-active distccd; echo "distccd is active: $?"
ss -Hltn 'sport = :3632' | grep -q .; echo "port 3632 is listening: $?"
tail -n 5 /var/log/distccd.log 2>/dev/null; echo "recent distccd log lines: $?"
