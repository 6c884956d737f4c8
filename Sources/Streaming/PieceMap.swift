/// Where a file's bytes lie among a torrent's pieces. Pure arithmetic.
public struct PieceMap: Sendable, Equatable {
    public let pieceLength: Int64
    public let pieceCount: Int
    /// The file's offset in the torrent's concatenated data, and its size.
    public let fileOffset: Int64
    public let fileSize: Int64

    public init(pieceLength: Int, pieceCount: Int, fileOffset: Int64, fileSize: Int64) {
        precondition(pieceLength > 0)
        self.pieceLength = Int64(pieceLength)
        self.pieceCount = pieceCount
        self.fileOffset = fileOffset
        self.fileSize = fileSize
    }

    /// The piece holding byte `offset` of the file (clamped to the file).
    public func piece(at offset: Int64) -> Int {
        let o = max(0, min(offset, max(0, fileSize - 1)))
        return Int((fileOffset + o) / pieceLength)
    }

    /// First and last piece of the file (a zero-length file has none).
    public var pieces: ClosedRange<Int>? {
        guard fileSize > 0 else { return nil }
        return piece(at: 0)...piece(at: fileSize - 1)
    }

    /// The pieces under bytes [range.lowerBound, range.upperBound) of the file.
    public func pieces(covering range: Range<Int64>) -> ClosedRange<Int>? {
        guard !range.isEmpty, range.lowerBound < fileSize else { return nil }
        return piece(at: range.lowerBound)...piece(at: min(range.upperBound, fileSize) - 1)
    }

    /// The file bytes that lie in `piece`.
    public func fileRange(of piece: Int) -> Range<Int64> {
        let start = Int64(piece) * pieceLength - fileOffset
        let end = start + pieceLength
        return max(0, start)..<min(fileSize, end)
    }

    /// Byte ranges of the file covered by verified pieces, merged.
    public func verifiedRanges(have: [Bool]) -> [Range<Int64>] {
        guard let ps = pieces else { return [] }
        var out = [Range<Int64>]()
        for p in ps where p < have.count && have[p] {
            let r = fileRange(of: p)
            if let last = out.last, last.upperBound == r.lowerBound {
                out[out.count - 1] = last.lowerBound..<r.upperBound
            } else {
                out.append(r)
            }
        }
        return out
    }
}
