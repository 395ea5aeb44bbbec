package formats

// The part of the STIX 2.1 patterning language that reduces to values:
// comparisons with = or IN, joined by OR, inside one or more observation
// expressions joined by OR. Anything else (AND, FOLLOWEDBY, NOT, other
// operators, qualifiers such as WITHIN) is refused with the reason.

import (
	"errors"
	"strings"
)

// comparison is one object path and value of a pattern: ("ipv4-addr:value",
// "198.51.100.1").
type comparison struct {
	path, value string
}

// patternError is why a pattern cannot be reduced to values; its text is
// a problem reason, so it names the construct, not the values.
type patternError string

func (e patternError) Error() string { return string(e) }

const (
	errAnd        patternError = "pattern: AND combination cannot be reduced to values"
	errFollowedBy patternError = "pattern: FOLLOWEDBY cannot be reduced to values"
	errNot        patternError = "pattern: NOT cannot be reduced to values"
	errOperator   patternError = "pattern: only = and IN comparisons can be reduced to values"
	errQualifier  patternError = "pattern: qualifiers (WITHIN, REPEATS, START/STOP) cannot be reduced to values"
	errSyntax     patternError = "pattern: syntax error"
)

type token struct {
	kind byte // '[', ']', '(', ')', ',', 's' string, 'w' word, 'o' operator
	text string
}

// lexPattern splits a pattern into tokens.
func lexPattern(s string) ([]token, error) {
	var toks []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			i++
		case strings.IndexByte("[](),", c) >= 0:
			toks = append(toks, token{kind: c, text: s[i : i+1]})
			i++
		case c == '\'':
			v, n, ok := quoted(s[i:])
			if !ok {
				return nil, errSyntax
			}
			toks = append(toks, token{kind: 's', text: v})
			i += n
		case c == '=' || c == '!' || c == '<' || c == '>':
			j := i + 1
			if j < len(s) && s[j] == '=' {
				j++
			}
			toks = append(toks, token{kind: 'o', text: s[i:j]})
			i = j
		case isWordByte(c):
			j := i
			for j < len(s) {
				if isWordByte(s[j]) {
					j++
					continue
				}
				// A quoted path step: hashes.'SHA-256'.
				if s[j] == '\'' && j > i && s[j-1] == '.' {
					_, n, ok := quoted(s[j:])
					if !ok {
						return nil, errSyntax
					}
					j += n
					continue
				}
				break
			}
			w := s[i:j]
			// Typed literals: t'…' (timestamp), h'…', b'…'.
			if (w == "t" || w == "h" || w == "b") && j < len(s) && s[j] == '\'' {
				v, n, ok := quoted(s[j:])
				if !ok {
					return nil, errSyntax
				}
				toks = append(toks, token{kind: 's', text: v})
				i = j + n
				continue
			}
			toks = append(toks, token{kind: 'w', text: w})
			i = j
		default:
			return nil, errSyntax
		}
	}
	return toks, nil
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == ':' || c == '.'
}

// quoted reads a '…' literal at the start of s, with \' and \\ escapes;
// n is its length in s.
func quoted(s string) (v string, n int, ok bool) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if i+1 >= len(s) {
				return "", 0, false
			}
			i++
			b.WriteByte(s[i])
		case '\'':
			return b.String(), i + 1, true
		default:
			b.WriteByte(s[i])
		}
	}
	return "", 0, false
}

// patternParser is a recursive-descent reader of the tokens.
type patternParser struct {
	toks []token
	pos  int
	out  []comparison
}

// reducePattern returns the comparisons of a pattern that reduces to
// values, or the reason it does not.
func reducePattern(s string) ([]comparison, error) {
	toks, err := lexPattern(s)
	if err != nil {
		return nil, err
	}
	p := &patternParser{toks: toks}
	if err := p.pattern(); err != nil {
		return nil, err
	}
	if p.pos != len(p.toks) {
		return nil, p.trailing()
	}
	if len(p.out) == 0 {
		return nil, errSyntax
	}
	return p.out, nil
}

func (p *patternParser) peek() token {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return token{}
}

func (p *patternParser) word(w string) bool {
	t := p.peek()
	return t.kind == 'w' && strings.EqualFold(t.text, w)
}

// trailing explains tokens left after a complete expression.
func (p *patternParser) trailing() error {
	switch t := strings.ToUpper(p.peek().text); t {
	case "WITHIN", "REPEATS", "START", "STOP":
		return errQualifier
	case "AND":
		return errAnd
	case "FOLLOWEDBY":
		return errFollowedBy
	}
	return errSyntax
}

// pattern: observation {OR observation}.
func (p *patternParser) pattern() error {
	for {
		if err := p.observation(); err != nil {
			return err
		}
		switch {
		case p.word("OR"):
			p.pos++
		case p.word("AND"):
			return errAnd
		case p.word("FOLLOWEDBY"):
			return errFollowedBy
		default:
			return nil
		}
	}
}

// observation: [ comparisons ] | ( pattern ).
func (p *patternParser) observation() error {
	switch p.peek().kind {
	case '[':
		p.pos++
		if err := p.comparisons(); err != nil {
			return err
		}
		if p.peek().kind != ']' {
			return p.trailing()
		}
		p.pos++
		return nil
	case '(':
		p.pos++
		if err := p.pattern(); err != nil {
			return err
		}
		if p.peek().kind != ')' {
			return p.trailing()
		}
		p.pos++
		return nil
	}
	return errSyntax
}

// comparisons: term {OR term}.
func (p *patternParser) comparisons() error {
	for {
		if err := p.term(); err != nil {
			return err
		}
		switch {
		case p.word("OR"):
			p.pos++
		case p.word("AND"):
			return errAnd
		default:
			return nil
		}
	}
}

// term: ( comparisons ) | path = 'value' | path IN ('a', 'b').
func (p *patternParser) term() error {
	t := p.peek()
	if t.kind == '(' {
		p.pos++
		if err := p.comparisons(); err != nil {
			return err
		}
		if p.peek().kind != ')' {
			return p.trailing()
		}
		p.pos++
		return nil
	}
	if t.kind != 'w' || !strings.Contains(t.text, ":") {
		if p.word("NOT") {
			return errNot
		}
		return errSyntax
	}
	path := t.text
	p.pos++
	op := p.peek()
	p.pos++
	switch {
	case op.kind == 'o' && op.text == "=":
		v := p.peek()
		if v.kind != 's' && v.kind != 'w' {
			return errSyntax
		}
		p.pos++
		p.out = append(p.out, comparison{path, v.text})
		return nil
	case op.kind == 'w' && strings.EqualFold(op.text, "IN"):
		if p.peek().kind != '(' {
			return errSyntax
		}
		p.pos++
		for {
			v := p.peek()
			if v.kind != 's' && v.kind != 'w' {
				return errSyntax
			}
			p.pos++
			p.out = append(p.out, comparison{path, v.text})
			if p.peek().kind == ',' {
				p.pos++
				continue
			}
			if p.peek().kind != ')' {
				return errSyntax
			}
			p.pos++
			return nil
		}
	case op.kind == 'w' && strings.EqualFold(op.text, "NOT"):
		return errNot
	case op.kind == 'o' || op.kind == 'w':
		return errOperator
	}
	return errSyntax
}

// isPatternError reports whether err is a reason of reducePattern.
func isPatternError(err error) bool {
	var pe patternError
	return errors.As(err, &pe)
}
