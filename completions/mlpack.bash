# bash completion for mlpack: subcommands, and refs read from the local store.
_mlpack() {
  local cur=${COMP_WORDS[COMP_CWORD]}
  local commands="init pack tag list log inspect path export import unpack verify diff key promote rollback history remote push pull ls-remote gc fsck"
  if ((COMP_CWORD == 1)); then
    mapfile -t COMPREPLY < <(compgen -W "$commands" -- "$cur")
    return
  fi
  case ${COMP_WORDS[1]} in
    tag | inspect | path | export | unpack | verify | diff | promote | push)
      local refs
      refs=$(mlpack list --json 2>/dev/null | sed -n 's/.*"name": "\(.*\)",/\1/p;s/.*"version": "\(.*\)",/:\1/p' | paste -d '' - - 2>/dev/null)
      mapfile -t COMPREPLY < <(compgen -W "$refs" -- "$cur")
      ;;
    import) mapfile -t COMPREPLY < <(compgen -f -- "$cur") ;;
  esac
}
complete -o default -F _mlpack mlpack
