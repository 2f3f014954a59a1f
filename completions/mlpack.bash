# bash completion for mlpack. Every candidate comes from the binary itself
# (`mlpack __complete WORD...`): commands and flags from its own parser, refs,
# stages and remotes from the repository, so this script never goes stale.
_mlpack() {
  local line=${COMP_LINE:0:COMP_POINT}
  local -a words
  # The binary gets the words before the cursor, the one being completed last
  # (empty after a space). Splitting COMP_LINE ourselves, rather than taking
  # COMP_WORDS, keeps NAME:VERSION one word although ':' breaks words in bash.
  read -ra words <<<"$line"
  if ((${#words[@]} == 0)); then return 0; fi
  if [[ $line =~ [[:space:]]$ ]]; then words+=(""); fi
  local cur=${words[-1]}
  local output
  output=$("${words[0]}" __complete "${words[@]:1}" 2>/dev/null) || return 0
  COMPREPLY=()
  local candidate fallback=""
  while IFS= read -r candidate; do
    case $candidate in
      "") ;;
      :files | :dirs) fallback=${candidate#:} ;;
      *) COMPREPLY+=("${candidate%%$'\t'*}") ;;
    esac
  done <<<"$output"
  if [[ -n $fallback ]]; then
    local -a paths
    if [[ $fallback == dirs ]]; then
      mapfile -t paths < <(compgen -d -- "$cur")
    else
      mapfile -t paths < <(compgen -f -- "$cur")
    fi
    COMPREPLY+=("${paths[@]}")
    compopt -o filenames 2>/dev/null || true
  fi
  # Bash replaces only the text after the last word-break character (':' and
  # '=' by default) in the current word, so drop what comes before it.
  local breaks=${COMP_WORDBREAKS//[^:=]/}
  if [[ -n $breaks && $cur == *["$breaks"]* ]]; then
    local head=${cur%"${cur##*["$breaks"]}"}
    COMPREPLY=("${COMPREPLY[@]#"$head"}")
  fi
}
complete -F _mlpack mlpack
