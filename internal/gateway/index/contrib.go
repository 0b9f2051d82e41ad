package index

// contribution is one object's records for one name.
type contribution struct {
	key string
	rec record
}

// contributions are the records every object gives one name. Nearly always
// there is one, so a slice with a linear search: a Go map costs several
// hundred bytes even with a single entry, per name.
type contributions []contribution

func (c contributions) find(key string) int {
	for i := range c {
		if c[i].key == key {
			return i
		}
	}
	return -1
}

// without removes key's contribution (order does not matter: nodes sort).
func (c contributions) without(key string) contributions {
	i := c.find(key)
	if i < 0 {
		return c
	}
	last := len(c) - 1
	c[i] = c[last]
	c[last] = contribution{}
	return c[:last]
}

// put adds or replaces key's record.
func (c contributions) put(key string, r record) contributions {
	if i := c.find(key); i >= 0 {
		c[i].rec = r
		return c
	}
	return append(c, contribution{key: key, rec: r})
}

func (c contributions) get(key string) (record, bool) {
	if i := c.find(key); i >= 0 {
		return c[i].rec, true
	}
	return record{}, false
}
