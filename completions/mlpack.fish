# fish completion for mlpack. Every candidate comes from the binary itself
# (`mlpack __complete WORD...`): commands and flags from its own parser, refs,
# stages and remotes from the repository, so this script never goes stale.
function __mlpack_complete
    set -l tokens (commandline -opc)
    set -l current (commandline -ct)
    # fish reads "value<TAB>description" lines as they are.
    for line in ($tokens[1] __complete $tokens[2..-1] $current 2>/dev/null)
        switch $line
            case :files
                __fish_complete_path $current
            case :dirs
                __fish_complete_directories $current
            case '*'
                echo $line
        end
    end
end

complete -c mlpack -f -a '(__mlpack_complete)'
