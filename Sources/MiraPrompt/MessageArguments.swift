import MiraShared

/// Sorts a command line so a user's message is never read as an option.
///
/// "-5 degrees out" or "-the boss yelled at me" starts with a dash, and an
/// argument parser would take it for flags (`-h` inside "-the" printed the
/// help instead of sending the message). Every known option keeps its place;
/// every other word, a single-dash one included, moves behind a `--`. An
/// unknown `--long` option is left for the parser to refuse: that is a typo,
/// not a message.
package enum MessageArguments {
    package static func rearranged(_ arguments: [String], valueOptions: Set<String>, flags: Set<String>) -> [String] {
        var options: [String] = []
        var words: [String] = []
        var k = 0
        while k < arguments.count {
            let argument = arguments[k]
            k += 1
            if argument == "--" {
                words += arguments[k...]
                break
            }
            if flags.contains(argument) {
                options.append(argument)
            } else if valueOptions.contains(argument) {
                // The value is the option's whatever it looks like, so it is
                // joined with "=": a parser would take a separate "-1" for an option.
                if k < arguments.count {
                    options.append(argument + "=" + arguments[k])
                    k += 1
                } else {
                    options.append(argument)  // the parser says the value is missing
                }
            } else if argument.hasPrefix("--") {
                options.append(argument)  // `--name=value`, or a typo the parser names
            } else {
                words.append(argument)
            }
        }
        return words.isEmpty ? options : options + ["--"] + words
    }
}
