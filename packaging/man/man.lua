-- pandoc Lua filter: turns one of relaytrust's Markdown man pages into a proper man page.
--
-- The Markdown starts with "# NAME(SECTION) — description" and has "## Section" headings.
-- That first heading becomes the .TH title and a NAME section ("NAME \- description", what
-- whatis/apropos read); the other headings move up one level (## -> .SH, ### -> .SS); links
-- to other Markdown files keep only their text (a man page cannot follow them); wrapped
-- tables and the synopsis are made to fit an 80-column terminal.

local function is_relative(target)
  return not target:match('^%a[%w+.-]*:')
end

function Link(link)
  if is_relative(link.target) then
    return link.content
  end
end

-- pandoc gives a wrapped table 70n in all (lw(70n * relative width)), split as the dashes of
-- the Markdown separator line say (| --- | --- |: half and half). With man's 7n indent and
-- the 3n column gaps that overflows the 78n line of an 80-column terminal (groff: "table
-- wider than line width"), and a column of short option names gets as much room as the
-- column of explanations. Instead: 61n in all; every column but the last as wide as its
-- longest cell (at most 40% of the table), the last column the rest.
local TABLE_WIDTH = 61
local function column_lengths(tbl)
  local lengths = {}
  local function measure(rows)
    for _, row in ipairs(rows) do
      for i, cell in ipairs(row.cells) do
        lengths[i] = math.max(lengths[i] or 0, utf8.len(pandoc.utils.stringify(cell.contents)) or 0)
      end
    end
  end
  measure(tbl.head.rows)
  for _, body in ipairs(tbl.bodies) do measure(body.body) end
  return lengths
end

local function fit_widths(tbl)
  local n = #tbl.colspecs
  for _, spec in ipairs(tbl.colspecs) do
    if type(spec[2]) ~= 'number' or spec[2] <= 0 then return end  -- not wrapped: natural widths
  end
  local lengths = column_lengths(tbl)
  local widths, used = {}, 0
  for i = 1, n - 1 do
    widths[i] = math.min((lengths[i] or 1) + 1, math.floor(TABLE_WIDTH * 0.4))
    used = used + widths[i]
  end
  widths[n] = TABLE_WIDTH - used
  if widths[n] < 20 then  -- too many wide columns: keep pandoc's proportions, scaled down
    for i, spec in ipairs(tbl.colspecs) do widths[i] = spec[2] * TABLE_WIDTH end
  end
  for i, spec in ipairs(tbl.colspecs) do tbl.colspecs[i] = {spec[1], widths[i] / 70} end
end

-- groff breaks lines after the hyphens of a word even without hyphenation; in inline code
-- (options, paths, unit names) that would mislead: \% at its start forbids it.
function Code(code)
  if code.text:find('-', 1, true) then
    return {pandoc.RawInline('man', '\\%'), code}
  end
end

-- Short code (up to 18 characters) fits every column and is left whole.
local function breakable(code)
  if #code.text <= 18 then return nil end
  local parts, piece = pandoc.List(), ''
  for ch in code.text:gmatch('.') do
    piece = piece .. ch
    if ch:match('[,=/;_(|]') then
      parts:insert(pandoc.Code(piece))
      parts:insert(pandoc.RawInline('man', '\\:'))
      piece = ''
    end
  end
  if piece ~= '' then parts:insert(pandoc.Code(piece)) end
  return parts
end

function Table(tbl)
  fit_widths(tbl)
  return pandoc.walk_block(tbl, {Code = breakable})
end

-- A code block in SYNOPSIS is set flush with the text, not indented again as pandoc does
-- with other code blocks: 71 characters fit an 80-column terminal.
local function synopsis_block(code)
  local lines = {}
  for line in (code.text .. '\n'):gmatch('(.-)\n') do
    line = line:gsub('\\', '\\e'):gsub('^([.\'])', '\\&%1')
    table.insert(lines, line)
  end
  return pandoc.RawBlock('man', '.nf\n\\f[C]\n' .. table.concat(lines, '\n') .. '\n\\f[R]\n.fi')
end

function Pandoc(doc)
  local blocks = pandoc.List()
  local titled = false
  local section = nil
  for _, block in ipairs(doc.blocks) do
    if block.t == 'Header' and block.level == 1 and not titled then
      local text = pandoc.utils.stringify(block.content)
      local name, number, description = text:match('^(%S+)%((%w+)%)%s+—%s+(.+)$')
      if not name then
        error('the first heading must read "NAME(SECTION) — description", not: ' .. text)
      end
      doc.meta.title = pandoc.MetaString(name)
      doc.meta.section = pandoc.MetaString(number)
      blocks:insert(pandoc.Header(1, 'NAME'))
      blocks:insert(pandoc.Plain({pandoc.Str(name), pandoc.Space(), pandoc.RawInline('man', '\\-'),
                                  pandoc.Space(), pandoc.Str(description)}))
      titled = true
    elseif block.t == 'Header' then
      if block.level == 1 then
        error('only the first heading may be a level-1 heading: ' ..
              pandoc.utils.stringify(block.content))
      end
      block.level = block.level - 1
      if block.level == 1 then  -- man(7): section names in capitals (NAME, SYNOPSIS, ...)
        section = pandoc.utils.stringify(block.content):upper()
        block.content = {pandoc.Str(section)}
      end
      blocks:insert(block)
    elseif block.t == 'CodeBlock' and section == 'SYNOPSIS' then
      blocks:insert(synopsis_block(block))
    else
      blocks:insert(block)
    end
  end
  if not titled then error('no "# NAME(SECTION) — description" heading') end
  doc.blocks = blocks
  return doc
end
