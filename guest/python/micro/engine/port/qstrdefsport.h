// Interned strings the engine uses that the generator cannot find in a .c
// file: names that are not plain identifiers, and names in mpconfigport.h.
Q(<agent>)
Q(<prelude>)
Q(collections)
