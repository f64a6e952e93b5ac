import CNNEngine
import CNNPruning
import Foundation
import Testing

/// `ChannelGroupListing`: the `groups --json` document.
@Suite struct ChannelGroupListingTests {
    @Test func residualGroupsArePrunableOnlyWhenAllowed() throws {
        let groups = try ChannelGroups(try ModelZoo.graph(named: "resnet20").sequential())
        let strict = ChannelGroupListing(architecture: "resnet20", groups: groups, allowResidual: false)
        let loose = ChannelGroupListing(architecture: "resnet20", groups: groups, allowResidual: true)
        #expect(strict.groups.count == groups.groups.count)
        let residual = strict.groups.filter(\.residual)
        #expect(!residual.isEmpty && residual.allSatisfy { !$0.prunable && $0.reason != nil })
        #expect(loose.groups.filter(\.residual).allSatisfy { $0.prunable || $0.reason != nil })
        #expect(loose.groups.filter(\.prunable).count > strict.groups.filter(\.prunable).count)
        let object = try JSONSerialization.jsonObject(with: JSONEncoder().encode(strict)) as? [String: Any]
        let first = (object?["groups"] as? [[String: Any]])?.first
        let keys = Set(first?.keys.map { $0 } ?? [])
        #expect(keys.isSuperset(of: ["name", "units", "prunable", "residual", "producers", "normalizations", "members"]))
    }
}
