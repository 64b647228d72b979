# shellcheck shell=bash
# dns.sh: .vm name helpers shared by verify.sh and interactive.sh, and a
# shell writer for the mapdns data file in the format bangerd uses
# (docs/networking.md). Source it; it defines functions only.

# banger_dns_fqdn NAME: prints the fully qualified name of a VM ("web" ->
# "web.vm."), lower-cased.
banger_dns_fqdn() {
  local n=${1,,}
  n=${n%.}
  n=${n%.vm}
  printf '%s.vm.\n' "$n"
}

# banger_mapdns_data_file [CONFIGURED]: prints the mapdns data file: the
# configured path, else $BANGER_MAPDNS_DATA_FILE, else
# $XDG_DATA_HOME/mapdns/records.json (bangerd resolves it the same way).
banger_mapdns_data_file() {
  if [ -n "${1:-}" ]; then
    printf '%s\n' "$1"
  elif [ -n "${BANGER_MAPDNS_DATA_FILE:-}" ]; then
    printf '%s\n' "$BANGER_MAPDNS_DATA_FILE"
  else
    printf '%s/mapdns/records.json\n' "${XDG_DATA_HOME:-$HOME/.local/share}"
  fi
}

# _banger_mapdns_edit FILE JQ-ARGS...: rewrites FILE through jq under the
# same flock bangerd takes (FILE.lock), atomically (temp file + rename).
_banger_mapdns_edit() {
  local file=$1 tmp
  shift
  mkdir -p "$(dirname "$file")"
  (
    flock 9
    [ -s "$file" ] || echo '{}' >"$file"
    tmp=$(mktemp "$(dirname "$file")/.records-XXXXXX.json")
    if jq "$@" "$file" >"$tmp"; then
      chmod 644 "$tmp" && mv -f "$tmp" "$file"
    else
      rm -f "$tmp"
      echo "dns: $file is not valid JSON: fix or remove it" >&2
      exit 1
    fi
  ) 9>"$file.lock"
}

# banger_mapdns_set FILE NAME IP: points NAME.vm at IP in the data file.
banger_mapdns_set() {
  # shellcheck disable=SC2016 # $n and $ip are jq variables
  _banger_mapdns_edit "$1" --arg n "$(banger_dns_fqdn "$2")" --arg ip "$3" '.[$n] = {A: $ip}'
}

# banger_mapdns_remove FILE NAME: removes NAME.vm from the data file.
banger_mapdns_remove() {
  # shellcheck disable=SC2016 # $n is a jq variable
  _banger_mapdns_edit "$1" --arg n "$(banger_dns_fqdn "$2")" 'del(.[$n])'
}

# banger_mapdns_reload PIDFILE [PROGRAM]: sends SIGHUP to the mapdns named
# by the pid file when that process runs PROGRAM (base name, default
# mapdns), so a stale pid is never signalled; otherwise does nothing.
banger_mapdns_reload() {
  local pid exe
  pid=$(cat "$1" 2>/dev/null) || return 0
  [[ $pid =~ ^[0-9]+$ ]] || return 0
  exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || return 0
  exe=${exe% (deleted)}
  if [ "${exe##*/}" = "${2:-mapdns}" ]; then kill -HUP "$pid" 2>/dev/null || true; fi
}

# banger_dns_lookup NAME [SERVER]: prints the IPv4 address NAME.vm resolves
# to (through SERVER when given, else the host resolver); empty when none.
banger_dns_lookup() {
  local fqdn
  fqdn=$(banger_dns_fqdn "$1")
  if [ -n "${2:-}" ]; then
    dig +short +time=2 +tries=1 "@$2" A "$fqdn" | head -n1
  else
    getent ahostsv4 "${fqdn%.}" | awk 'NR == 1 { print $1 }'
  fi
}
