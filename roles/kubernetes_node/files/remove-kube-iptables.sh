#!/usr/bin/env bash
# Remove kube-proxy's and kube-router's chains (KUBE-*) and the CNI plugins' (CNI-*) from every table
# of iptables and ip6tables: first the rules elsewhere that jump to them or name kube-router's sets
# and bridge, then the chains themselves (flushed, then deleted), then kube-router's ipsets when the
# ipset tool is installed. Nothing else is touched. Prints "yes" when something was removed, else "no".
set -o pipefail
changed=no
for tool in iptables ip6tables; do
  command -v "$tool" >/dev/null || continue
  for table in filter nat mangle raw; do
    rules=$("$tool" -t "$table" -S 2>/dev/null) || continue
    while read -r rule; do
      [ -n "$rule" ] || continue
      eval "\"$tool\" -t \"$table\" -D ${rule#-A }" && changed=yes
    done < <(printf '%s\n' "$rules" | grep '^-A' | grep -e 'KUBE-' -e 'CNI-' -e 'kube-router' -e 'kube-bridge' | grep -v -e '^-A KUBE-' -e '^-A CNI-')
    for chain in $(printf '%s\n' "$rules" | sed -n 's/^-N \(\(KUBE\|CNI\)-[^ ]*\)$/\1/p'); do
      "$tool" -t "$table" -F "$chain" && changed=yes
    done
    for chain in $(printf '%s\n' "$rules" | sed -n 's/^-N \(\(KUBE\|CNI\)-[^ ]*\)$/\1/p'); do
      "$tool" -t "$table" -X "$chain" && changed=yes
    done
  done
done
if command -v ipset >/dev/null; then
  for set in $(ipset list -n 2>/dev/null | grep -e '^KUBE-' -e '^kube-router-'); do
    ipset destroy "$set" && changed=yes
  done
fi
echo "$changed"
