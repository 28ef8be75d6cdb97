# bash completion for supervent-ctl: its commands, their arguments, its options.
_supervent_ctl() {
    local cur prev words cword
    _init_completion || return
    local commands='status watch pause resume rate set reload sources stop version convert dashboard'
    case $prev in
        --socket|reload|convert)
            _filedir
            return ;;
        rate)
            COMPREPLY=($(compgen -W 'unlimited' -- "$cur"))
            return ;;
        set)
            COMPREPLY=($(compgen -W 'rate events duration progress progress_interval_ms log_level' -- "$cur"))
            return ;;
        sources)
            COMPREPLY=($(compgen -W 'enable disable' -- "$cur"))
            return ;;
        log_level)
            COMPREPLY=($(compgen -W 'error warning notice info debug' -- "$cur"))
            return ;;
    esac
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W '--socket --json --timeout --interval --count --help --version' -- "$cur"))
        return
    fi
    local word
    for word in "${words[@]:1:cword-1}"; do
        [[ " $commands " == *" $word "* ]] && return  # the command is given
    done
    COMPREPLY=($(compgen -W "$commands" -- "$cur"))
}
complete -F _supervent_ctl supervent-ctl
