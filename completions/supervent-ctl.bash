# bash completion for supervent-ctl: its commands, their arguments, its options.
_supervent_ctl() {
    local cur prev words cword
    _init_completion || return
    local commands='status watch pause resume rate set reload sources incident stop version convert dashboard fleet'
    case $prev in
        --socket|reload|convert|--file)
            _filedir
            return ;;
        --instance)
            # superventd@NAME units: their configs in /etc/supervent/NAME.toml.
            local configs=(/etc/supervent/*.toml)
            [[ -e ${configs[0]} ]] && COMPREPLY=($(compgen -W "$(basename -s .toml -a "${configs[@]}")" -- "$cur"))
            return ;;
        fleet)
            COMPREPLY=($(compgen -W 'status' -- "$cur"))
            return ;;
        rate)
            COMPREPLY=($(compgen -W 'unlimited' -- "$cur"))
            return ;;
        set)
            COMPREPLY=($(compgen -W 'rate events duration progress progress_interval_ms log_level' -- "$cur"))
            return ;;
        sources)
            COMPREPLY=($(compgen -W 'enable disable --builtin' -- "$cur"))
            return ;;
        --builtin)
            COMPREPLY=($(compgen -W '$(supervent-ctl sources --builtin 2>/dev/null | cut -d" " -f1)' -- "$cur"))
            return ;;
        incident)
            COMPREPLY=($(compgen -W 'start stop' -- "$cur"))
            return ;;
        log_level)
            COMPREPLY=($(compgen -W 'error warning notice info debug' -- "$cur"))
            return ;;
    esac
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W '--socket --instance --file --json --timeout --interval --count --builtin --for --help --version' -- "$cur"))
        return
    fi
    local word
    for word in "${words[@]:1:cword-1}"; do
        [[ " $commands " == *" $word "* ]] && return  # the command is given
    done
    COMPREPLY=($(compgen -W "$commands" -- "$cur"))
}
complete -F _supervent_ctl supervent-ctl
