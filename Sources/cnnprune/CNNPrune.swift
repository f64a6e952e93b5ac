import ArgumentParser

/// The `cnnprune` command: train small CNNs on CIFAR-10 and study structured channel pruning.
@main
struct CNNPrune: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cnnprune",
        abstract: "Train the SimpleCNN on CIFAR-10 and study structured pruning of its channels.",
        subcommands: [TrainCommand.self, EvaluateCommand.self, DownloadCommand.self, SweepCommand.self, SensitivityCommand.self, ExperimentCommand.self, PruneCommand.self, GroupsCommand.self, ExportCommand.self, ProbeCommand.self]
    )

    /// Parses and runs the command; a library error that the command line words itself
    /// (`FlagNamingError`) is printed in its words.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let error as FlagNamingError {
            exit(withError: CLIError(error.commandLineDescription))
        } catch {
            exit(withError: error)
        }
    }
}
