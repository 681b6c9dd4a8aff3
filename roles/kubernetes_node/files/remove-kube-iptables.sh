#!/usr/bin/env bash
# Remove kube-proxy's chains (KUBE-*) and the CNI plugins' (CNI-*) from every table of iptables and
# ip6tables: first the rules elsewhere that jump to them, then the chains themselves (flushed, then
# deleted). Nothing else is touched. Prints "yes" when something was removed, else "no".
set -o pipefail
changed=no
for tool in iptables ip6tables; do
  command -v "$tool" >/dev/null || continue
  for table in filter nat mangle raw; do
    rules=$("$tool" -t "$table" -S 2>/dev/null) || continue
    while read -r rule; do
      [ -n "$rule" ] || continue
      eval "\"$tool\" -t \"$table\" -D ${rule#-A }" && changed=yes
    done < <(printf '%s\n' "$rules" | grep '^-A' | grep -e 'KUBE-' -e 'CNI-' | grep -v -e '^-A KUBE-' -e '^-A CNI-')
    for chain in $(printf '%s\n' "$rules" | sed -n 's/^-N \(\(KUBE\|CNI\)-[^ ]*\)$/\1/p'); do
      "$tool" -t "$table" -F "$chain" && changed=yes
    done
    for chain in $(printf '%s\n' "$rules" | sed -n 's/^-N \(\(KUBE\|CNI\)-[^ ]*\)$/\1/p'); do
      "$tool" -t "$table" -X "$chain" && changed=yes
    done
  done
done
echo "$changed"
