# bash completion for superventd. Options come from `superventd --help`, so
# they follow the program; values are offered where there is a fixed set.
_superventd() {
    local cur prev words cword
    _init_completion -s || return
    case $prev in
        --config|--checkpoint|--token-file|--ca-file)
            _filedir
            return ;;
        --scenario)
            COMPREPLY=($(compgen -W '$(supervent-ctl sources --builtin 2>/dev/null | cut -d" " -f1)' -- "$cur"))
            return ;;
        --log-level)
            COMPREPLY=($(compgen -W 'error warning notice info debug' -- "$cur"))
            return ;;
        --format)
            COMPREPLY=($(compgen -W 'ndjson json csv text' -- "$cur"))
            return ;;
        --compression)
            COMPREPLY=($(compgen -W 'none zstd zstd:fast gzip' -- "$cur"))
            return ;;
        --shard)
            COMPREPLY=($(compgen -W 'auto/' -- "$cur"))
            compopt -o nospace
            return ;;
        --zero-copy)
            COMPREPLY=($(compgen -W 'auto on off' -- "$cur"))
            return ;;
        --sink)
            COMPREPLY=($(compgen -W 'http:// https:// file: stdout: discard: postgresql:// syslog+tcp:// syslog+tls:// syslog+udp:// elasticsearch+http:// elasticsearch+https:// opensearch+https:// loki+http:// splunk+https:// otlp+http:// datadog+https://' -- "$cur"))
            compopt -o nospace
            return ;;
    esac
    [[ $cur == -* ]] && COMPREPLY=($(compgen -W '$(_parse_help "$1")' -- "$cur"))
}
complete -F _superventd superventd
