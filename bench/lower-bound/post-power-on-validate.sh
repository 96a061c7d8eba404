# post-power-on-validate's checks on one worker in one remote shell (the manifest part runs on the
# controller and needs no ssh).
systemctl show distccd | grep -qx 'ActiveState=active'; echo "distccd is active: $?"
ss -ltnH | awk '{ print $4 }' | grep -q ':3632$'; echo "port 3632 is listening: $?"
log=/var/log/distccd.log
if [ -r "$log" ]; then tail -n 10 "$log"
elif command -v journalctl >/dev/null; then journalctl -u distccd -n 10 --no-pager
else echo "no distccd log on this host"; fi
