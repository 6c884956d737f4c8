import Testing

@testable import Server

@Suite("SRT to WebVTT")
struct SubtitleTests {
    @Test("cues convert; tags, ASS overrides and script are stripped; text is escaped")
    func convert() throws {
        let srt =
            "\u{FEFF}1\r\n00:00:01,000 --> 00:00:02,500\r\n<i>Hello</i> <font color=\"red\">there</font>\r\n\r\n2\r\n00:01:02,003 --> 00:01:04,000 X1:0\r\n{\\an8}<script>alert(1)</script>Top & <b>bold</b>\r\nline two\r\n\r\n"
        let vtt = try #require(SubtitleConverter.webVTT(from: Array(srt.utf8)))
        #expect(
            vtt
                == "WEBVTT\n\n00:00:01.000 --> 00:00:02.500\nHello there\n\n00:01:02.003 --> 00:01:04.000\nalert(1)Top &amp; bold\nline two\n\n"
        )
    }

    @Test("garbage, reversed or absurd timings, oversize: nothing or skipped cues, never a crash")
    func garbage() {
        #expect(SubtitleConverter.webVTT(from: []) == nil)
        #expect(SubtitleConverter.webVTT(from: Array("not subtitles at all".utf8)) == nil)
        #expect(SubtitleConverter.webVTT(from: Array("1\n00:00:05,000 --> 00:00:01,000\nbackwards\n".utf8)) == nil)
        #expect(SubtitleConverter.webVTT(from: Array("1\nxx:yy --> zz\ntext\n".utf8)) == nil)
        #expect(SubtitleConverter.webVTT(from: [UInt8](repeating: 0x41, count: SubtitleConverter.maxInputBytes + 1)) == nil)
        let mixed = "1\n00:00:01,000 --> 00:00:02,000\nok\n\n2\n99:99:99:99,0 --> 1\nbad\n"
        #expect(SubtitleConverter.webVTT(from: Array(mixed.utf8)) == "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nok\n\n")
    }

    @Test("WebVTT input is re-sanitized the same way")
    func vttInput() {
        let vtt = "WEBVTT\n\nNOTE hi\n\n00:00.500 --> 00:01.000 line:0\n<c.red>Hi</c>\n"
        #expect(SubtitleConverter.webVTT(from: Array(vtt.utf8)) == "WEBVTT\n\n00:00:00.500 --> 00:00:01.000\nHi\n\n")
    }

    @Test("shifted for a stream that starts mid-film: earlier cues dropped, a cue under way starts at 0")
    func shifted() {
        let srt =
            "1\n00:00:01,000 --> 00:00:02,000\nGone\n\n2\n00:00:09,000 --> 00:00:12,000\nUnder way\n\n3\n00:01:00,000 --> 00:01:01,500\nLater\n"
        #expect(
            SubtitleConverter.webVTT(from: Array(srt.utf8), shift: 10)
                == "WEBVTT\n\n00:00:00.000 --> 00:00:02.000\nUnder way\n\n00:00:50.000 --> 00:00:51.500\nLater\n\n")
    }
}
