#include "RunMediaView.h"

#include "api/Client.h"
#include "api/Http.h"
#include "workspace/WorkspaceConnection.h"

#include <nlohmann/json.hpp>
#include <QComboBox>
#include <QDialog>
#include <QEvent>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QIcon>
#include <QLabel>
#include <QListWidget>
#include <QPixmap>
#include <QScrollArea>
#include <QSlider>
#include <QSplitter>
#include <QStackedWidget>
#include <QTableWidget>
#include <QVBoxLayout>

#include <algorithm>
#include <map>
#include <optional>
#include <sstream>

namespace Kiln::Ui {

using Json = nlohmann::json;

namespace {

constexpr std::size_t kMaxImages = 500;           // read at most this many images of a run
constexpr std::size_t kMaxImageBytes = 32u << 20; // and none larger
constexpr std::size_t kMaxRows = 100000;          // rows of each table

// The run's file `path`, or nothing when the run has no such file.
std::optional<std::string> runFile(Api::Client& c, qint64 runId, const std::string& path) {
    std::string encoded;
    std::stringstream parts(path);
    for (std::string part; std::getline(parts, part, '/');)
        encoded += (encoded.empty() ? "" : "/") + Api::percentEncode(part);
    auto [status, body] = c.raw("GET", "/api/v1/runs/" + std::to_string(runId) + "/files/" + encoded);
    if (status == 404)
        return std::nullopt;
    if (status != 200)
        throw std::runtime_error("could not read " + path + " (HTTP " + std::to_string(status) + ")");
    return std::move(body);
}

// Each line of a JSONL file that parses as an object (a line cut short by a crash is left out).
template <typename Each> void eachRecord(const std::string& text, Each each) {
    std::stringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
        auto record = Json::parse(line, nullptr, false);
        if (record.is_object() && !each(record))
            return;
    }
}

QVariant cell(const Json& v) {
    if (v.is_number_integer())
        return QVariant::fromValue(v.get<qint64>());
    if (v.is_number())
        return v.get<double>();
    if (v.is_boolean())
        return v.get<bool>();
    if (v.is_string())
        return QString::fromStdString(v.get<std::string>());
    return v.is_null() ? QVariant() : QVariant(QString::fromStdString(v.dump()));
}

} // namespace

Json readRunMedia(Api::Client& c, qint64 runId) {
    Json media = {{"images", Json::array()}, {"tables", Json::array()}};
    if (const auto index = runFile(c, runId, "logs/images.jsonl"))
        eachRecord(*index, [&](const Json& r) {
            const auto file = r.value("file", std::string());
            if (!file.starts_with("logs/images/") || file.find("..") != std::string::npos)
                return true;
            auto bytes = runFile(c, runId, file);
            if (bytes && bytes->size() <= kMaxImageBytes)
                media["images"].push_back(
                    {{"name", r.value("name", file)},
                     {"description", r.value("description", std::string())},
                     {"data", Json::binary(std::vector<std::uint8_t>(bytes->begin(), bytes->end()))}});
            return media["images"].size() < kMaxImages;
        });
    if (const auto rows = runFile(c, runId, "logs/tables.jsonl")) {
        std::map<std::string, std::size_t> at; // table name -> its index, in the order first logged
        eachRecord(*rows, [&](const Json& r) {
            if (!r.contains("row") || !r["row"].is_object())
                return true;
            const auto name = r.value("name", std::string("table"));
            auto [it, added] = at.try_emplace(name, media["tables"].size());
            if (added)
                media["tables"].push_back({{"name", name}, {"rows", Json::array()}});
            auto& table = media["tables"][it->second]["rows"];
            if (table.size() < kMaxRows)
                table.push_back(r["row"]);
            return true;
        });
    }
    return media;
}

RunMediaView::RunMediaView(WorkspaceConnection& connection, qint64 runId, QWidget* parent)
    : QWidget(parent)
    , m_connection(connection)
    , m_runId(runId)
    , m_stack(new QStackedWidget(this))
    , m_empty(new QLabel(this))
    , m_images(new QListWidget(this))
    , m_preview(new QLabel(this))
    , m_caption(new QLabel(this))
    , m_series(new QSlider(Qt::Horizontal, this))
    , m_tableChoice(new QComboBox(this))
    , m_table(new QTableWidget(this)) {
    m_images->setObjectName(QStringLiteral("runImages"));
    m_series->setObjectName(QStringLiteral("runImageSeries"));
    m_preview->setObjectName(QStringLiteral("runImagePreview"));
    m_tableChoice->setObjectName(QStringLiteral("runTableChoice"));
    m_table->setObjectName(QStringLiteral("runTable"));
    m_caption->setObjectName(QStringLiteral("runImageCaption"));
    m_empty->setObjectName(QStringLiteral("runMediaEmpty"));
    m_empty->setWordWrap(true);
    m_empty->setAlignment(Qt::AlignCenter);
    m_empty->setText(tr("The run's images and tables appear here when it ends: a script adds them with "
                        "run.log_image(name, plot=plt) or path=, run.log_row(name, col=value...) and "
                        "run.log_table(name, {col: [values]})."));

    m_images->setViewMode(QListView::IconMode);
    m_images->setIconSize(QSize(120, 90));
    m_images->setResizeMode(QListView::Adjust);
    m_images->setMovement(QListView::Static);
    m_images->setWordWrap(true);
    m_images->setFixedWidth(160);
    m_preview->setAlignment(Qt::AlignCenter);
    m_preview->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Ignored);
    m_images->setToolTip(tr("Enter or double-click: the full size"));
    m_preview->installEventFilter(this); // scaled again to the room it gets
    m_caption->setWordWrap(true);
    m_series->setToolTip(tr("The image logged under this name at each call, in order"));
    m_series->setPageStep(1);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->setSortingEnabled(true);
    m_table->horizontalHeader()->setStretchLastSection(true);

    auto* previewBox = new QWidget(this);
    auto* previewLayout = new QVBoxLayout(previewBox);
    previewLayout->setContentsMargins(0, 0, 0, 0);
    previewLayout->addWidget(m_preview, 1);
    previewLayout->addWidget(m_series);
    previewLayout->addWidget(m_caption);
    auto* imagesBox = new QWidget(this); // the thumbnails, and the chosen one large beside them
    auto* imagesLayout = new QHBoxLayout(imagesBox);
    imagesLayout->setContentsMargins(0, 0, 0, 0);
    imagesLayout->addWidget(m_images);
    imagesLayout->addWidget(previewBox, 1);
    auto* tableBox = new QWidget(this);
    auto* tableLayout = new QVBoxLayout(tableBox);
    tableLayout->setContentsMargins(0, 0, 0, 0);
    auto* tableBar = new QHBoxLayout;
    auto* tableLabel = new QLabel(tr("&Table:"), tableBox);
    tableLabel->setBuddy(m_tableChoice);
    tableBar->addWidget(tableLabel);
    tableBar->addWidget(m_tableChoice, 1);
    tableLayout->addLayout(tableBar);
    tableLayout->addWidget(m_table, 1);
    // Side by side: the pane below a run's charts is wide and low.
    auto* content = new QSplitter(Qt::Horizontal, this);
    content->setChildrenCollapsible(false);
    content->addWidget(imagesBox);
    content->addWidget(tableBox);
    content->setStretchFactor(0, 3);
    content->setStretchFactor(1, 2);
    m_stack->addWidget(m_empty);
    m_stack->addWidget(content);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_stack);

    connect(m_images, &QListWidget::currentRowChanged, this, [this](int row) {
        const auto count = row >= 0 && row < m_byName.size() ? m_byName[row].size() : 0;
        m_series->setRange(1, std::max<qsizetype>(1, count));
        m_series->setValue(static_cast<int>(count));
        m_series->setVisible(count > 1);
        showImage();
    });
    connect(m_series, &QSlider::valueChanged, this, &RunMediaView::showImage);
    connect(m_images, &QListWidget::itemActivated, this, &RunMediaView::openFullSize);
    connect(m_tableChoice, &QComboBox::currentIndexChanged, this, &RunMediaView::showTable);
}

void RunMediaView::load() {
    const auto runId = m_runId;
    m_connection.call(
        this, [runId](Api::Client& c) { return readRunMedia(c, runId); },
        [this](const Json& media) { show(media); },
        [this](const QString& error) {
            m_empty->setText(tr("Could not read the run's images and tables: %1").arg(error));
            m_stack->setCurrentWidget(m_empty);
        });
}

void RunMediaView::show(const Json& media) {
    m_images->clear();
    m_byName.clear();
    m_descriptions.clear();
    QStringList names;
    for (const auto& image : media["images"]) {
        const auto& bytes = image["data"].get_binary();
        QImage decoded;
        if (!decoded.loadFromData(bytes.data(), static_cast<int>(bytes.size())))
            continue; // not an image Qt can read: it is still in the Files tab
        const auto name = QString::fromStdString(image["name"].get<std::string>());
        auto at = names.indexOf(name);
        if (at < 0) {
            at = static_cast<int>(names.size());
            names << name;
            m_byName.emplaceBack();
            m_descriptions.emplaceBack();
        }
        m_byName[at] << decoded;
        m_descriptions[at] << QString::fromStdString(image["description"].get<std::string>());
    }
    for (int i = 0; i < names.size(); ++i) {
        const auto& latest = m_byName[i].back();
        auto* item = new QListWidgetItem(
            QIcon(QPixmap::fromImage(
                latest.scaled(m_images->iconSize(), Qt::KeepAspectRatio, Qt::SmoothTransformation))),
            m_byName[i].size() > 1 ? tr("%1 (%2)").arg(names[i]).arg(m_byName[i].size()) : names[i],
            m_images);
        item->setData(Qt::UserRole, names[i]);
    }
    m_tableNames.clear();
    m_tableRows.clear();
    for (const auto& t : media["tables"]) {
        m_tableNames << QString::fromStdString(t["name"].get<std::string>());
        QList<QVariantMap> rows;
        for (const auto& r : t["rows"]) {
            QVariantMap row;
            for (const auto& [k, v] : r.items())
                row.insert(QString::fromStdString(k), cell(v));
            rows << row;
        }
        m_tableRows << rows;
    }
    {
        const QSignalBlocker block(m_tableChoice);
        m_tableChoice->clear();
        for (int i = 0; i < m_tableNames.size(); ++i)
            m_tableChoice->addItem(m_tableRows[i].size() == 1
                                       ? tr("%1 (1 row)").arg(m_tableNames[i])
                                       : tr("%1 (%2 rows)").arg(m_tableNames[i]).arg(m_tableRows[i].size()));
    }
    m_tableChoice->parentWidget()->setVisible(!m_tableNames.isEmpty());
    m_images->parentWidget()->setVisible(!names.isEmpty());
    m_stack->setCurrentIndex(names.isEmpty() && m_tableNames.isEmpty() ? 0 : 1);
    if (names.isEmpty() && m_tableNames.isEmpty())
        m_empty->setText(tr("This run logged no images or tables (run.log_image, run.log_row, run.log_table "
                            "add them)."));
    if (!names.isEmpty())
        m_images->setCurrentRow(0);
    showTable();
    Q_EMIT loaded(static_cast<int>(names.size()), static_cast<int>(m_tableNames.size()));
}

void RunMediaView::showImage() {
    const int row = m_images->currentRow();
    if (row < 0 || row >= m_byName.size()) {
        m_preview->clear();
        m_caption->clear();
        return;
    }
    const int i = std::clamp(m_series->value(), 1, static_cast<int>(m_byName[row].size())) - 1;
    const auto& image = m_byName[row][i];
    m_preview->setPixmap(QPixmap::fromImage(
        image.size().boundedTo(m_preview->size()) == image.size()
            ? image
            : image.scaled(m_preview->size(), Qt::KeepAspectRatio, Qt::SmoothTransformation)));
    const auto& description = m_descriptions[row][i];
    m_caption->setText((m_byName[row].size() > 1
                            ? tr("%1, %2 of %3")
                                  .arg(m_images->item(row)->data(Qt::UserRole).toString())
                                  .arg(i + 1)
                                  .arg(m_byName[row].size())
                            : m_images->item(row)->data(Qt::UserRole).toString()) +
                       (description.isEmpty() ? QString() : QStringLiteral(": ") + description));
}

bool RunMediaView::eventFilter(QObject* watched, QEvent* event) {
    if (watched == m_preview && event->type() == QEvent::Resize)
        showImage();
    return QWidget::eventFilter(watched, event);
}

void RunMediaView::showTable() {
    const int t = m_tableChoice->currentIndex();
    m_table->setSortingEnabled(false);
    m_table->clear();
    if (t < 0 || t >= m_tableRows.size()) {
        m_table->setRowCount(0);
        m_table->setColumnCount(0);
        return;
    }
    QStringList columns; // in the order they first appear
    for (const auto& row : m_tableRows[t])
        for (auto it = row.cbegin(); it != row.cend(); ++it)
            if (!columns.contains(it.key()))
                columns << it.key();
    m_table->setColumnCount(static_cast<int>(columns.size()));
    m_table->setHorizontalHeaderLabels(columns);
    m_table->setRowCount(static_cast<int>(m_tableRows[t].size()));
    for (int r = 0; r < m_tableRows[t].size(); ++r)
        for (int c = 0; c < columns.size(); ++c) {
            auto* item = new QTableWidgetItem;
            item->setData(Qt::DisplayRole, m_tableRows[t][r].value(columns[c]));
            m_table->setItem(r, c, item);
        }
    m_table->setSortingEnabled(true);
}

void RunMediaView::openFullSize() {
    const int row = m_images->currentRow();
    if (row < 0 || row >= m_byName.size())
        return;
    const auto& image =
        m_byName[row][std::clamp(m_series->value(), 1, static_cast<int>(m_byName[row].size())) - 1];
    auto* dialog = new QDialog(this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->setWindowTitle(m_images->item(row)->data(Qt::UserRole).toString());
    auto* label = new QLabel(dialog);
    label->setPixmap(QPixmap::fromImage(image));
    auto* scroll = new QScrollArea(dialog);
    scroll->setWidget(label);
    auto* layout = new QVBoxLayout(dialog);
    layout->addWidget(scroll);
    dialog->resize(std::min(image.width() + 40, 1300), std::min(image.height() + 40, 740));
    dialog->open();
}

} // namespace Kiln::Ui
