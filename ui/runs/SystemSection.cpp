#include "SystemSection.h"

#include "charts/MetricChart.h"
#include "charts/SeriesBuffer.h"

#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QRegularExpression>
#include <QToolButton>
#include <QVBoxLayout>

namespace Kiln::Ui {

namespace {

struct Group {
    QString id;    // "cpu", "gpu0/util", or the key itself for a key no group knows
    QString title; // the chart's title
    int rank;      // display order
};

// Which chart a key goes to. Rates and sizes that belong together share a chart (CPU total and system time,
// reads and writes); the run-long summaries (peak, mean) are the section's heading, not charts.
std::optional<Group> groupOf(const QString& key) {
    static const QHash<QString, Group> fixed = {
        {QStringLiteral("sys/cpu"), {QStringLiteral("cpu"), QObject::tr("CPU (cores)"), 0}},
        {QStringLiteral("sys/cpu_user"), {QStringLiteral("cpu"), QObject::tr("CPU (cores)"), 0}},
        {QStringLiteral("sys/cpu_system"), {QStringLiteral("cpu"), QObject::tr("CPU (cores)"), 0}},
        {QStringLiteral("sys/rss_mb"), {QStringLiteral("memory"), QObject::tr("Memory (MiB resident)"), 1}},
        {QStringLiteral("sys/read_mb_s"), {QStringLiteral("io"), QObject::tr("I/O (MiB/s)"), 2}},
        {QStringLiteral("sys/write_mb_s"), {QStringLiteral("io"), QObject::tr("I/O (MiB/s)"), 2}},
        {QStringLiteral("sys/threads"), {QStringLiteral("threads"), QObject::tr("Threads"), 3}},
        {QStringLiteral("sys/processes"), {QStringLiteral("processes"), QObject::tr("Processes"), 4}},
        {QStringLiteral("sys/open_files"), {QStringLiteral("files"), QObject::tr("Open files"), 5}},
    };
    if (key == QLatin1String("sys/peak_rss_mb") || key == QLatin1String("sys/mean_cpu"))
        return std::nullopt;
    if (auto it = fixed.find(key); it != fixed.end())
        return *it;
    static const QRegularExpression gpu(QStringLiteral("^sys/gpu(\\d+)/(util|mem_mb|temp_c|power_w)$"));
    if (const auto m = gpu.match(key); m.hasMatch()) {
        const int n = m.captured(1).toInt();
        const auto what = m.captured(2);
        const int i = what == QLatin1String("util")     ? 0
                      : what == QLatin1String("mem_mb") ? 1
                      : what == QLatin1String("temp_c") ? 2
                                                        : 3;
        const QString titles[] = {QObject::tr("GPU %1 utilization (%)"), QObject::tr("GPU %1 memory (MiB)"),
                                  QObject::tr("GPU %1 temperature (°C)"), QObject::tr("GPU %1 power (W)")};
        return Group{QStringLiteral("gpu%1/%2").arg(n).arg(what), titles[i].arg(n), 10 + n * 4 + i};
    }
    return Group{key, key.mid(4), 1000}; // a key a newer supervisor records: a chart of its own
}

const QColor kColors[] = {QColor(0x1f, 0x77, 0xb4), QColor(0xd6, 0x27, 0x28), QColor(0x2c, 0xa0, 0x2c)};

} // namespace

SystemSection::SystemSection(QWidget* parent)
    : QWidget(parent)
    , m_toggle(new QToolButton(this))
    , m_summary(new QLabel(this))
    , m_grid(new QWidget(this))
    , m_gridLayout(new QGridLayout(m_grid)) {
    setObjectName(QStringLiteral("systemSection"));
    m_toggle->setObjectName(QStringLiteral("systemToggle"));
    m_toggle->setText(tr("System"));
    m_toggle->setCheckable(true);
    m_toggle->setChecked(true);
    m_toggle->setArrowType(Qt::DownArrow);
    m_toggle->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    m_toggle->setAutoRaise(true);
    m_toggle->setToolTip(
        tr("The run's CPU, memory, I/O and GPU use, sampled by its supervisor (sys/ metrics)"));
    QFont bold = m_toggle->font();
    bold.setBold(true);
    m_toggle->setFont(bold);
    m_summary->setObjectName(QStringLiteral("systemSummary"));
    m_summary->setTextInteractionFlags(Qt::TextSelectableByMouse);
    connect(m_toggle, &QToolButton::toggled, this, [this](bool on) {
        m_toggle->setArrowType(on ? Qt::DownArrow : Qt::RightArrow);
        m_grid->setVisible(on);
    });
    m_gridLayout->setContentsMargins(0, 0, 0, 0);
    m_gridLayout->setSpacing(6);
    auto* heading = new QHBoxLayout;
    heading->addWidget(m_toggle);
    heading->addWidget(m_summary, 1);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 8, 0, 0);
    layout->addLayout(heading);
    layout->addWidget(m_grid);
    hide(); // until the first system metric arrives
}

bool SystemSection::isSystemKey(const QString& key) {
    return key.startsWith(QLatin1String("sys/"));
}

bool SystemSection::expanded() const {
    return m_toggle->isChecked();
}

void SystemSection::addSeries(const QString& key, const std::shared_ptr<SeriesBuffer>& buffer, qint64 run) {
    m_buffers.insert(key, buffer);
    show();
    const auto group = groupOf(key);
    if (!group)
        return updateSummary();
    auto* chart = m_charts.value(group->id);
    if (!chart) {
        chart = new MetricChart(group->title, m_grid);
        chart->setObjectName(QStringLiteral("systemChart:") + group->id);
        chart->setXAxis(MetricChart::XAxis::RelativeTime);
        chart->setFollow(true);
        chart->setMinimumHeight(150);
        chart->setMaximumHeight(190);
        chart->setProperty("rank", group->rank);
        m_charts.insert(group->id, chart);
        m_order.append(group->id);
        std::sort(m_order.begin(), m_order.end(), [this](const QString& a, const QString& b) {
            const int ra = m_charts[a]->property("rank").toInt();
            const int rb = m_charts[b]->property("rank").toInt();
            return ra != rb ? ra < rb : a < b;
        });
        layoutCharts();
    }
    // Short legend names where a chart has several curves.
    static const QHash<QString, QString> names = {{QStringLiteral("sys/cpu"), QObject::tr("total")},
                                                  {QStringLiteral("sys/cpu_user"), QObject::tr("user")},
                                                  {QStringLiteral("sys/cpu_system"), QObject::tr("system")},
                                                  {QStringLiteral("sys/read_mb_s"), QObject::tr("read")},
                                                  {QStringLiteral("sys/write_mb_s"), QObject::tr("written")}};
    chart->addCurve({run, names.value(key, key.mid(4)), kColors[chart->curveCount() % std::size(kColors)],
                     buffer, m_started});
    updateSummary();
}

void SystemSection::dataAppended() {
    for (auto* chart : std::as_const(m_charts))
        chart->dataAppended();
    updateSummary();
}

void SystemSection::setColumns(int columns) {
    if (columns == m_columns)
        return;
    m_columns = columns;
    layoutCharts();
}

void SystemSection::layoutCharts() {
    for (auto* chart : std::as_const(m_charts))
        m_gridLayout->removeWidget(chart);
    for (int c = 0; c < 4; ++c)
        m_gridLayout->setColumnStretch(c, c < m_columns ? 1 : 0);
    for (int i = 0; i < m_order.size(); ++i)
        m_gridLayout->addWidget(m_charts[m_order[i]], i / m_columns, i % m_columns);
}

void SystemSection::updateSummary() {
    auto last = [this](const char* key) -> std::optional<double> {
        const auto b = m_buffers.value(QLatin1String(key));
        return b && b->size() ? std::optional<double>(b->values.back()) : std::nullopt;
    };
    QStringList parts;
    if (const auto peak = last("sys/peak_rss_mb"))
        parts << (*peak >= 1024 ? tr("peak memory %1 GiB").arg(*peak / 1024, 0, 'f', 2)
                                : tr("peak memory %1 MiB").arg(*peak, 0, 'f', 0));
    if (const auto mean = last("sys/mean_cpu"))
        parts << tr("mean CPU %1 cores").arg(*mean, 0, 'f', 2);
    static const QRegularExpression gpuUtil(QStringLiteral("^sys/gpu(\\d+)/util$"));
    QList<int> gpus;
    for (auto it = m_buffers.cbegin(); it != m_buffers.cend(); ++it)
        if (const auto m = gpuUtil.match(it.key()); m.hasMatch())
            gpus << m.captured(1).toInt();
    std::sort(gpus.begin(), gpus.end());
    for (int n : gpus)
        if (const auto util = last(qPrintable(QStringLiteral("sys/gpu%1/util").arg(n))))
            parts << tr("GPU %1 at %2%").arg(n).arg(*util, 0, 'f', 0);
    const auto text = parts.join(QStringLiteral(" · "));
    if (text == m_summaryText)
        return;
    m_summaryText = text;
    m_summary->setText(text);
    Q_EMIT summaryChanged(text);
}

QList<MetricChart*> SystemSection::charts() const {
    QList<MetricChart*> out;
    for (const auto& id : m_order)
        out << m_charts[id];
    return out;
}

} // namespace Kiln::Ui
