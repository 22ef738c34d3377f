import { UsageError } from "./context.js";

/** A command's words: its subcommands and its long options (help included). */
interface Node {
  path: string;
  words: string[];
}

/** What is read of a commander command. */
interface AnyCommand {
  name(): string;
  readonly commands: readonly AnyCommand[];
  readonly options: readonly { long?: string }[];
}

function nodes(command: AnyCommand, path: string[] = []): Node[] {
  const words = [
    ...command.commands.map((c) => c.name()),
    ...command.options.flatMap((o) => (o.long ? [o.long] : [])),
    "--help",
  ];
  return [{ path: path.join(" "), words }, ...command.commands.flatMap((c) => nodes(c, [...path, c.name()]))];
}

function bash(program: AnyCommand): string {
  const cases = nodes(program)
    .map((n) => `    "${n.path}") words="${n.words.join(" ")}" ;;`)
    .join("\n");
  return `# kapa completion for bash: eval "$(npx kapa completion bash)"
_kapa_complete() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" path="" word words i
  for ((i = 1; i < COMP_CWORD; i++)); do
    word="\${COMP_WORDS[i]}"
    [[ "$word" == -* ]] && continue
    case " $(_kapa_words "$path") " in *" $word "*) path="\${path:+$path }$word" ;; esac
  done
  COMPREPLY=($(compgen -W "$(_kapa_words "$path")" -- "$cur"))
}
_kapa_words() {
  local words=""
  case "$1" in
${cases}
  esac
  echo "$words"
}
complete -F _kapa_complete kapa
`;
}

function zsh(program: AnyCommand): string {
  return `#compdef kapa
# kapa completion for zsh: eval "$(npx kapa completion zsh)"
autoload -U +X bashcompinit && bashcompinit
${bash(program)}`;
}

/** The completion script of `kapa`, built from the commander program itself. */
export function completionScript(program: AnyCommand, shell: string): string {
  if (shell === "bash") return bash(program);
  if (shell === "zsh") return zsh(program);
  throw new UsageError(`completion: shell must be bash or zsh, got ${shell}`);
}
