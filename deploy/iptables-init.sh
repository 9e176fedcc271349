#!/usr/bin/env bash
# Transparent interception for a Remora sidecar: redirects the pod's TCP to Remora with iptables
# nat rules in the current network namespace (run it in the pod's namespace, e.g. from an init
# container with NET_ADMIN, or under `ip netns exec`). Like Istio's istio-iptables:
#
#   inbound  (PREROUTING): TCP arriving for the pod        -> Remora's inbound listener port
#   outbound (OUTPUT):     TCP the pod's processes open    -> Remora's outbound listener port
#
# Not redirected: Remora's own traffic (its uid, so its upstream connections do not loop back
# into it), loopback, the admin port, Remora's own listener ports, and the excluded ports and
# CIDRs. Remora recovers each connection's real destination with SO_ORIGINAL_DST (a listener
# with `original_dst: true`; see docs/operations.md, "Traffic interception").
#
# Idempotent: the rules live in the chains REMORA_INBOUND and REMORA_OUTPUT, which are flushed
# and re-created on every run, with exactly one jump to each. `--clean` removes them.
#
# Usage: iptables-init.sh [options]        install (or re-install) the rules
#        iptables-init.sh --clean          remove them
# Options (each also read from the environment variable shown):
#   --proxy-uid N              REMORA_PROXY_UID       uid Remora runs as (required to install)
#   --inbound-port N           REMORA_INBOUND_PORT    default 15006
#   --outbound-port N          REMORA_OUTBOUND_PORT   default 15001
#   --admin-port N             REMORA_ADMIN_PORT      default 9901
#   --exclude-inbound-ports L  REMORA_EXCLUDE_INBOUND_PORTS   comma-separated, e.g. 22,15021
#   --exclude-outbound-ports L REMORA_EXCLUDE_OUTBOUND_PORTS
#   --exclude-outbound-cidrs L REMORA_EXCLUDE_OUTBOUND_CIDRS  e.g. 169.254.169.254/32,10.96.0.0/12
#   --ipv6                     REMORA_IPV6=1          also install the same rules with ip6tables
set -euo pipefail

proxy_uid="${REMORA_PROXY_UID:-}"
inbound_port="${REMORA_INBOUND_PORT:-15006}"
outbound_port="${REMORA_OUTBOUND_PORT:-15001}"
admin_port="${REMORA_ADMIN_PORT:-9901}"
exclude_in_ports="${REMORA_EXCLUDE_INBOUND_PORTS:-}"
exclude_out_ports="${REMORA_EXCLUDE_OUTBOUND_PORTS:-}"
exclude_out_cidrs="${REMORA_EXCLUDE_OUTBOUND_CIDRS:-}"
ipv6="${REMORA_IPV6:-0}"
clean=0

die() {
  echo "iptables-init: $*" >&2
  exit 2
}

need_value() { [[ $# -ge 2 && -n "$2" ]] || die "$1: expected a value"; }

while [[ $# -gt 0 ]]; do
  case "$1" in
    --proxy-uid) need_value "$@"; proxy_uid="$2"; shift 2 ;;
    --inbound-port) need_value "$@"; inbound_port="$2"; shift 2 ;;
    --outbound-port) need_value "$@"; outbound_port="$2"; shift 2 ;;
    --admin-port) need_value "$@"; admin_port="$2"; shift 2 ;;
    --exclude-inbound-ports) need_value "$@"; exclude_in_ports="$2"; shift 2 ;;
    --exclude-outbound-ports) need_value "$@"; exclude_out_ports="$2"; shift 2 ;;
    --exclude-outbound-cidrs) need_value "$@"; exclude_out_cidrs="$2"; shift 2 ;;
    --ipv6) ipv6=1; shift ;;
    --clean) clean=1; shift ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done

check_port() {  # name value
  [[ "$2" =~ ^[0-9]+$ ]] && (("$2" >= 1 && "$2" <= 65535)) || die "$1: expected a port 1-65535, got '$2'"
}

split_list() { tr ',' ' ' <<<"$1"; }

# Removes the jumps (however many a crashed earlier run left) and the chains.
remove_rules() {  # iptables-binary
  local ipt="$1"
  while "$ipt" -w -t nat -D PREROUTING -p tcp -j REMORA_INBOUND 2>/dev/null; do :; done
  while "$ipt" -w -t nat -D OUTPUT -p tcp -j REMORA_OUTPUT 2>/dev/null; do :; done
  for chain in REMORA_INBOUND REMORA_OUTPUT; do
    if "$ipt" -w -t nat -L "$chain" -n >/dev/null 2>&1; then
      "$ipt" -w -t nat -F "$chain"
      "$ipt" -w -t nat -X "$chain"
    fi
  done
}

install_rules() {  # iptables-binary family(4|6)
  local ipt="$1" family="$2" port cidr loopback
  loopback=127.0.0.0/8
  [[ "$family" == 6 ]] && loopback=::1/128
  for chain in REMORA_INBOUND REMORA_OUTPUT; do
    # -N fails when the chain exists: flush it instead, so a re-run replaces the rules.
    "$ipt" -w -t nat -N "$chain" 2>/dev/null || "$ipt" -w -t nat -F "$chain"
  done

  # Inbound: everything but loopback, the proxy's own ports and the excluded ports.
  "$ipt" -w -t nat -A REMORA_INBOUND -i lo -j RETURN
  for port in "$inbound_port" "$outbound_port" "$admin_port" $(split_list "$exclude_in_ports"); do
    "$ipt" -w -t nat -A REMORA_INBOUND -p tcp --dport "$port" -j RETURN
  done
  "$ipt" -w -t nat -A REMORA_INBOUND -p tcp -j REDIRECT --to-ports "$inbound_port"

  # Outbound: the proxy's own connections first, so its upstream traffic is never redirected.
  "$ipt" -w -t nat -A REMORA_OUTPUT -m owner --uid-owner "$proxy_uid" -j RETURN
  "$ipt" -w -t nat -A REMORA_OUTPUT -o lo -j RETURN
  "$ipt" -w -t nat -A REMORA_OUTPUT -d "$loopback" -j RETURN
  for port in "$admin_port" $(split_list "$exclude_out_ports"); do
    "$ipt" -w -t nat -A REMORA_OUTPUT -p tcp --dport "$port" -j RETURN
  done
  for cidr in $(split_list "$exclude_out_cidrs"); do
    # Each family takes its own CIDRs.
    if [[ "$cidr" == *:* ]]; then [[ "$family" == 6 ]] || continue; else [[ "$family" == 4 ]] || continue; fi
    "$ipt" -w -t nat -A REMORA_OUTPUT -d "$cidr" -j RETURN
  done
  "$ipt" -w -t nat -A REMORA_OUTPUT -p tcp -j REDIRECT --to-ports "$outbound_port"

  # Exactly one jump from each built-in chain.
  while "$ipt" -w -t nat -D PREROUTING -p tcp -j REMORA_INBOUND 2>/dev/null; do :; done
  while "$ipt" -w -t nat -D OUTPUT -p tcp -j REMORA_OUTPUT 2>/dev/null; do :; done
  "$ipt" -w -t nat -A PREROUTING -p tcp -j REMORA_INBOUND
  "$ipt" -w -t nat -A OUTPUT -p tcp -j REMORA_OUTPUT
}

families=("iptables 4")
((ipv6)) && families+=("ip6tables 6")

for entry in "${families[@]}"; do
  read -r ipt family <<<"$entry"
  command -v "$ipt" >/dev/null || die "$ipt not found (Debian package iptables)"
done

if ((clean)); then
  for entry in "${families[@]}"; do
    read -r ipt family <<<"$entry"
    remove_rules "$ipt"
  done
  echo "iptables-init: interception rules removed"
  exit 0
fi

[[ -n "$proxy_uid" ]] || die "--proxy-uid: required (the uid Remora runs as; its own traffic must not be redirected)"
[[ "$proxy_uid" =~ ^[0-9]+$ ]] || die "--proxy-uid: expected a numeric uid, got '$proxy_uid'"
check_port --inbound-port "$inbound_port"
check_port --outbound-port "$outbound_port"
check_port --admin-port "$admin_port"
for port in $(split_list "$exclude_in_ports"); do check_port --exclude-inbound-ports "$port"; done
for port in $(split_list "$exclude_out_ports"); do check_port --exclude-outbound-ports "$port"; done
for cidr in $(split_list "$exclude_out_cidrs"); do
  [[ "$cidr" =~ ^[0-9a-fA-F.:]+(/[0-9]+)?$ ]] || die "--exclude-outbound-cidrs: expected address[/prefix], got '$cidr'"
done

for entry in "${families[@]}"; do
  read -r ipt family <<<"$entry"
  install_rules "$ipt" "$family"
done
echo "iptables-init: inbound TCP -> :$inbound_port, outbound TCP -> :$outbound_port" \
  "(uid $proxy_uid, loopback and admin port $admin_port excluded)"
