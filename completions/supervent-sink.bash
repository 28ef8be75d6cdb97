# bash completion for supervent-sink: its options, from `supervent-sink --help`.
_supervent_sink() {
    local cur prev words cword
    _init_completion -s || return
    case $prev in
        --port-file|--report|--tls-cert|--tls-key)
            _filedir
            return ;;
    esac
    [[ $cur == -* ]] && COMPREPLY=($(compgen -W '$(_parse_help "$1") --version' -- "$cur"))
}
complete -F _supervent_sink supervent-sink
