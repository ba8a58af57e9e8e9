package tree

import "strings"

// This file matches paths against .gitignore patterns exactly as git does:
// a line is parsed as git's dir.c parses it (comments, trailing spaces,
// '!', a trailing '/', anchoring by a '/' anywhere but at the end), and
// matched by a port of git's wildmatch, the matcher git uses for ignore
// files (with WM_PATHNAME for patterns holding a '/'). Git is the
// reference, its quirks included: a backup that leaves out other files
// than git would is data loss, and the differential test against git
// (exclude_git_test.go) holds the two together.
//
// What git does and this file does too:
//
//   - A line that is empty or starts with '#' is skipped. Trailing spaces
//     are dropped unless escaped with a backslash; leading ones are part of
//     the pattern. A NUL ends the line, as it ends git's C string.
//   - A leading '!' negates the pattern; "\!" and "\#" are a literal '!'
//     and '#'. A trailing '/' matches directories only and is then dropped.
//   - A pattern with no other '/' is matched against the last component of
//     the path, at any depth, and '*' there matches anything (there is no
//     '/' to stop it). Any other is matched against the path relative to
//     the directory of its ignore file, a leading '/' dropped, with '*',
//     '?' and '[...]' never matching a '/'.
//   - "**" between slashes (or at either end) matches any number of
//     directories: "**/x" at any depth, "x/**" everything below x, and
//     "a/**/b" with none or more in between; elsewhere it is a '*'.
//   - '[...]' is a class: '!' or '^' first negates it, "a-z" is a range of
//     bytes, ']' first is literal, '\' escapes, and [:alpha:] and the other
//     POSIX classes match ASCII only. An unclosed '[' or an unknown class
//     matches nothing.
//   - Matching is by byte (a '?' does not match a two-byte character) and
//     case-sensitive, as git's is with core.ignoreCase false.
//   - The literal part of a pattern before its first wildcard is compared
//     apart from the rest, so that "foo**/bar" takes its "**/" as leading
//     and matches "foo/x/bar" and "foobar" (git's match_pathname does so).

// ignorePattern is one pattern of an ignore file, or of the user's.
type ignorePattern struct {
	text     string // without the leading '!' and the trailing '/'
	base     string // the ignore file's directory with a trailing '/'; "" for the root
	literal  int    // length of text's leading part without a wildcard
	negative bool   // it re-includes what it matches
	dirOnly  bool   // it had a trailing '/'
	basename bool   // it has no '/' but a trailing one: it matches the last component
}

// parseIgnoreLine parses one line of an ignore file in the directory base
// ("" for the root, else with a trailing '/'). It returns false for a
// comment or a blank line.
func parseIgnoreLine(line, base string) (ignorePattern, bool) {
	if i := strings.IndexByte(line, 0); i >= 0 {
		line = line[:i]
	}
	line = strings.TrimSuffix(line, "\r")
	if line == "" || line[0] == '#' {
		return ignorePattern{}, false
	}
	line = trimTrailingSpaces(line)
	p := ignorePattern{base: base}
	if strings.HasPrefix(line, "!") {
		p.negative = true
		line = line[1:]
	}
	if strings.HasSuffix(line, "/") {
		p.dirOnly = true
		line = line[:len(line)-1]
	}
	if line == "" {
		return ignorePattern{}, false // git keeps it, but it matches nothing
	}
	p.text = line
	p.basename = !strings.Contains(line, "/")
	p.literal = strings.IndexAny(line, `*?[\`)
	if p.literal < 0 {
		p.literal = len(line)
	}
	return p, true
}

// trimTrailingSpaces drops the spaces at the end of line, but not one
// escaped by a backslash nor any before it.
func trimTrailingSpaces(line string) string {
	end := len(line)
	for i := 0; i < len(line); i++ {
		switch line[i] {
		case ' ':
			if end == len(line) {
				end = i
			}
		case '\\':
			i++
			if i == len(line) {
				return line // a trailing backslash escapes nothing: keep it all
			}
			end = len(line)
		default:
			end = len(line)
		}
	}
	return line[:end]
}

// match reports whether p matches path (relative to the root,
// slash-separated, name being its last component).
func (p *ignorePattern) match(path, name string, isDir bool) bool {
	if p.dirOnly && !isDir {
		return false
	}
	if p.basename {
		if p.literal == len(p.text) {
			return name == p.text
		}
		return wildmatch(p.text, name, false)
	}
	text, literal := p.text, p.literal
	if text[0] == '/' {
		text, literal = text[1:], literal-1
	}
	rel, ok := strings.CutPrefix(path, p.base)
	if !ok || rel == "" {
		return false
	}
	if literal > 0 {
		if literal > len(rel) || text[:literal] != rel[:literal] {
			return false
		}
		text, rel = text[literal:], rel[literal:]
		if text == "" && rel == "" {
			return true
		}
	}
	return wildmatch(text, rel, true)
}

// wildmatch reports whether pattern matches text. With pathname, '*', '?'
// and classes do not match '/' and "**" has its meaning between slashes;
// without, '/' is an ordinary byte.
func wildmatch(pattern, text string, pathname bool) bool {
	return dowild(pattern, text, pathname) == wmMatch
}

// The results of dowild. The aborts stop the backtracking of the '*'s
// further out: with the text used up no later start can match, and a
// single '*' that met a '/' leaves the rest to an outer "**".
const (
	wmMatch = iota
	wmNoMatch
	wmAbortAll
	wmAbortToStarStar
)

// byteAt returns s[i], or 0 past the end, where git's C strings hold their
// NUL (neither patterns nor paths hold one).
func byteAt(s string, i int) byte {
	if i < len(s) {
		return s[i]
	}
	return 0
}

// dowild matches p against text as git's wildmatch does; the comments name
// its cases.
func dowild(p, text string, pathname bool) int {
	pi, ti := 0, 0
	for ; pi < len(p); pi, ti = pi+1, ti+1 {
		pc, tc := p[pi], byteAt(text, ti)
		if tc == 0 && pc != '*' {
			return wmAbortAll
		}
		switch pc {
		case '\\': // the next byte, literally
			pi++
			if tc != byteAt(p, pi) {
				return wmNoMatch
			}
		default:
			if tc != pc {
				return wmNoMatch
			}
		case '?':
			if pathname && tc == '/' {
				return wmNoMatch
			}
		case '*':
			matchSlash := !pathname
			pi++
			if byteAt(p, pi) == '*' {
				before := pi - 2 // the byte before the stars
				for pi++; byteAt(p, pi) == '*'; pi++ {
				}
				next := byteAt(p, pi)
				if !pathname {
					matchSlash = true
				} else if (before < 0 || p[before] == '/') &&
					(next == 0 || next == '/' || next == '\\' && byteAt(p, pi+1) == '/') {
					// "**/" may match no directory at all: try the rest
					// here first.
					if next == '/' && dowild(p[pi+1:], text[ti:], pathname) == wmMatch {
						return wmMatch
					}
					matchSlash = true
				} else {
					matchSlash = false // "**" not between slashes is a '*'
				}
			}
			next := byteAt(p, pi)
			if next == 0 {
				// A trailing "*" matches the rest of a component, a
				// trailing "**" everything.
				if !matchSlash && strings.IndexByte(text[ti:], '/') >= 0 {
					return wmNoMatch
				}
				return wmMatch
			}
			if !matchSlash && next == '/' {
				// "*/" matches the rest of this component; the loop then
				// steps over both slashes.
				i := strings.IndexByte(text[ti:], '/')
				if i < 0 {
					return wmNoMatch
				}
				ti += i
				continue
			}
			// Try the rest of the pattern at every position the star can
			// stretch to.
			for tc != 0 {
				if !isGlobSpecial(next) {
					// The rest starts with a literal: skip to where it is.
					for tc = byteAt(text, ti); tc != 0 && (matchSlash || tc != '/') && tc != next; tc = byteAt(text, ti) {
						ti++
					}
					if tc != next {
						return wmNoMatch
					}
				}
				if m := dowild(p[pi:], text[ti:], pathname); m != wmNoMatch {
					if !matchSlash || m != wmAbortToStarStar {
						return m
					}
				} else if !matchSlash && tc == '/' {
					return wmAbortToStarStar
				}
				ti++
				tc = byteAt(text, ti)
			}
			return wmAbortAll
		case '[':
			pi++
			pc = byteAt(p, pi)
			if pc == '^' {
				pc = '!'
			}
			negated := pc == '!'
			if negated {
				pi++
				pc = byteAt(p, pi)
			}
			var prev byte // the previous member, for a range; 0 after a range or class
			matched := false
			for {
				switch {
				case pc == 0:
					return wmAbortAll // no closing ']'
				case pc == '\\':
					pi++
					pc = byteAt(p, pi)
					if pc == 0 {
						return wmAbortAll
					}
					if tc == pc {
						matched = true
					}
				case pc == '-' && prev != 0 && byteAt(p, pi+1) != 0 && byteAt(p, pi+1) != ']':
					pi++
					pc = p[pi]
					if pc == '\\' {
						pi++
						pc = byteAt(p, pi)
						if pc == 0 {
							return wmAbortAll
						}
					}
					if tc <= pc && tc >= prev {
						matched = true
					}
					pc = 0
				case pc == '[' && byteAt(p, pi+1) == ':':
					start := pi + 2
					end := start
					for end < len(p) && p[end] != ']' {
						end++
					}
					if end == len(p) {
						return wmAbortAll
					}
					if end-start-1 < 0 || p[end-1] != ':' {
						// No ":]": the '[' is an ordinary member.
						if tc == '[' {
							matched = true
						}
						break
					}
					in, known := inClass(p[start:end-1], tc)
					if !known {
						return wmAbortAll
					}
					if in {
						matched = true
					}
					pi, pc = end, 0
				default:
					if tc == pc {
						matched = true
					}
				}
				prev = pc
				pi++
				if pc = byteAt(p, pi); pc == ']' {
					break
				}
			}
			if matched == negated || pathname && tc == '/' {
				return wmNoMatch
			}
		}
	}
	if ti < len(text) {
		return wmNoMatch
	}
	return wmMatch
}

// isGlobSpecial reports whether c is special in a pattern.
func isGlobSpecial(c byte) bool {
	return c == '*' || c == '?' || c == '[' || c == '\\'
}

// inClass reports whether c is in the POSIX class name, as git's ctype
// has them (ASCII only; git's space is " \t\n\r"), and whether the class
// is known at all.
func inClass(name string, c byte) (in, known bool) {
	lower := 'a' <= c && c <= 'z'
	upper := 'A' <= c && c <= 'Z'
	digit := '0' <= c && c <= '9'
	graph := '!' <= c && c <= '~'
	switch name {
	case "alnum":
		return lower || upper || digit, true
	case "alpha":
		return lower || upper, true
	case "blank":
		return c == ' ' || c == '\t', true
	case "cntrl":
		return c < ' ' || c == 0x7f, true
	case "digit":
		return digit, true
	case "graph":
		return graph, true
	case "lower":
		return lower, true
	case "print":
		return graph || c == ' ', true
	case "punct":
		return graph && !lower && !upper && !digit, true
	case "space":
		return c == ' ' || c == '\t' || c == '\n' || c == '\r', true
	case "upper":
		return upper, true
	case "xdigit":
		return digit || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F', true
	}
	return false, false
}
