package filelock

import (
	"cmp"
	"math"
	"path/filepath"
	"strconv"
	"strings"
)

// Tickets of the fair queue: their names, which sort like their numbers,
// and their paths.

// ticketNumberDigits is the width of a ticket's number, so that names sort
// like numbers in a listing.
const ticketNumberDigits = 20

type ticket struct {
	num  uint64
	name string // its name in the queue directory
	path string // its path, which ends with name
}

func (t ticket) compare(u ticket) int {
	return cmp.Or(cmp.Compare(t.num, u.num), strings.Compare(t.name, u.name))
}

// ticketNameLen is the length of a ticket's name.
const ticketNameLen = ticketNumberDigits + 1 + 2*tokenBytes

// parseTicketName returns the number of a ticket's name; other names are
// not tickets.
func parseTicketName[T string | []byte](name T) (uint64, bool) {
	if len(name) != ticketNameLen || name[ticketNumberDigits] != '-' || !validToken(name[ticketNumberDigits+1:]) {
		return 0, false
	}
	var n uint64
	for i := range ticketNumberDigits {
		c := name[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if n > (math.MaxUint64-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	return n, true
}

// ticket returns the ticket of the queue named name, number num. Its name
// is the end of its path, one string: a waiter makes the tickets it looks
// at, at every turn.
func (q *queue) ticket(num uint64, name []byte) ticket {
	var b strings.Builder
	b.Grow(len(q.dir) + 1 + len(name))
	b.WriteString(q.dir)
	b.WriteByte(filepath.Separator)
	b.Write(name)
	p := b.String()
	return ticket{num: num, name: p[len(p)-len(name):], path: p}
}

// appendTicketName appends the name of ticket number num with the given
// token to b.
func appendTicketName(b []byte, num uint64, token string) []byte {
	var digits [ticketNumberDigits]byte
	d := strconv.AppendUint(digits[:0], num, 10)
	for range ticketNumberDigits - len(d) {
		b = append(b, '0')
	}
	b = append(b, d...)
	b = append(b, '-')
	return append(b, token...)
}
