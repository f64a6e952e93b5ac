import ArgumentParser
import CNNEngine
import CNNPruning
import Foundation

/// `cnnprune groups`: the channel groups of a model or architecture — what must be pruned together.
struct GroupsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "groups",
        abstract: "List the channel groups of a network: the tensor slices that must be pruned together.",
        discussion: """
        A group is a layer's output channels with its bias, the BatchNorm after it and every consumer's \
        input slice; where branches meet at a residual sum, every producer feeding the sum joins the group. \
        The output layer is never prunable; groups coupled through a residual sum only with --prune-residual.
        """
    )

    @Option(help: "A model file (any architecture).")
    var model: String?

    @OptionGroup var architecture: ArchitectureOptions

    @Flag(help: "Count groups coupled through residual sums as prunable.")
    var pruneResidual = false

    @Flag(help: "Print one JSON object.")
    var json = false

    func validate() throws {
        if model != nil && architecture.isGiven { throw ValidationError("give --model or --arch/--arch-file, not both") }
    }

    func run() throws {
        let network: Sequential
        let name: String
        if let model {
            let loaded = try ModelFile.load(model)
            network = loaded.network.architecture
            name = loaded.graph.name ?? "custom architecture"
        } else {
            let graph = try architecture.choice.graph(inputShape: [3, 32, 32], defaultClasses: architecture.classes ?? 10)
            network = try graph.sequential()
            name = graph.name ?? "custom architecture"
        }
        let groups = try ChannelGroups(network)
        var listing = ChannelGroupListing(architecture: name, groups: groups, allowResidual: pruneResidual)
        for (index, group) in groups.groups.enumerated() { listing.groups[index].reason = group.whyNotPrunableWithFlag(allowResidual: pruneResidual) }
        if json { return try printJSON(listing) }
        let entries = listing.groups
        print("\(name): \(entries.count) channel groups, \(entries.filter(\.prunable).count) prunable\(pruneResidual ? " (residual groups included)" : "")")
        for entry in entries {
            let state = entry.prunable ? "prunable" : "not prunable: \(entry.reason ?? "")"
            print("\(entry.name)  \(entry.units) channels  \(state)")
            for member in entry.members {
                let slice = member.block > 1 ? " (blocks of \(member.block))" : ""
                print("    \(member.role.rawValue.padding(toLength: 13, withPad: " ", startingAt: 0)) \(member.tensor) dim \(member.dimension)\(slice)")
            }
        }
    }
}
